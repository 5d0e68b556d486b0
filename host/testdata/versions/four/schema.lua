return { name = "four", fields = { { config = { type = "record", fields = {} } } } }
