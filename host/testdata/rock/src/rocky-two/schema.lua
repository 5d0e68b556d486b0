return { name = "rocky-two", fields = { { config = { type = "record", fields = {} } } } }
