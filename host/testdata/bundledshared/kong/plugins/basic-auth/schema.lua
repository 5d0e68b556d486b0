return { name = "basic-auth", fields = { { config = { type = "record", fields = {} } } } }
