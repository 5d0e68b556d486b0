return { name = "cors", fields = { { config = { type = "record", fields = {} } } } }
