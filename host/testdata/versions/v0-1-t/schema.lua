return { name = "v0-1-t", fields = { { config = { type = "record", fields = {} } } } }
