return { name = 'bad-ref', fields = { { config = { type = 'record', fields = {} } } } }
