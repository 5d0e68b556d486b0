return { name = "repo-plugin", fields = { { config = { type = "record", fields = {} } } } }
