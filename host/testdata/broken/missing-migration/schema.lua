return {
  name = "missing-migration",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
