return {
  name = "daoskey",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
