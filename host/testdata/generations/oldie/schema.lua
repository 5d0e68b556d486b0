return { no_consumer = true, fields = { key = { type = "string", default = "k" } } }
