return {
  name = "cachekeydup",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
