return { name = "mixed", fields = { { config = { type = "record", fields = {} } } } }
