return { name = "with-api", fields = { { config = { type = "record", fields = {} } } } }
