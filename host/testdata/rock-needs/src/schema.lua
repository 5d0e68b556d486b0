return { name = "needs-thing", fields = { { config = { type = "record", fields = {} } } } }
