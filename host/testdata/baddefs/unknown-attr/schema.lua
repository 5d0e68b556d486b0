return { name = 'unknown-attr', fields = { { config = { type = 'record', fields = {} } } } }
