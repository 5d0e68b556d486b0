return { name = "acl", fields = { { config = { type = "record", fields = {} } } } }
