return { name = "legacy-badhooks", fields = { { config = { type = "record", fields = {} } } } }
