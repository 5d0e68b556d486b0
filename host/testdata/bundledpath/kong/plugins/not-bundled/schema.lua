return { name = "not-bundled", fields = { { config = { type = "record", fields = {} } } } }
