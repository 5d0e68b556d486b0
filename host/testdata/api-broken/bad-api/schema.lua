return { name = "bad-api", fields = { { config = { type = "record", fields = {} } } } }
