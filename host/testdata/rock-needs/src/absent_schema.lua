return { name = "needs-absent", fields = { { config = { type = "record", fields = {} } } } }
