return {
  name = "fieldclash",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
