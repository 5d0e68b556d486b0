return {
  name = "singlekey",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
