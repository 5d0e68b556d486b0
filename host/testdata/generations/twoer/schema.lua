return { name = "twoer", fields = { { config = { type = "record", fields = {} } } } }
