return {
  name = "coreclash",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
