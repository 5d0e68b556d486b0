return { name = "ws-creds", fields = { { config = { type = "record", fields = {} } } } }
