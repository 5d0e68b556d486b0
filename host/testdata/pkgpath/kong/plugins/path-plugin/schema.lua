return { name = "path-plugin", fields = { { config = { type = "record", fields = {} } } } }
