return {
  name = "bundledclash",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
