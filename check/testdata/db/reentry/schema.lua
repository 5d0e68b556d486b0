return {
  name = "reentry",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
