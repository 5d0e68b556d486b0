return { name = "jwt", fields = { { config = { type = "record", fields = {} } } } }
