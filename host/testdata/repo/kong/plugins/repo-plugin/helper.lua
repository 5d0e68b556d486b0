return { name = "repo helper" }
