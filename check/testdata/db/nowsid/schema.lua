return {
  name = "nowsid",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
