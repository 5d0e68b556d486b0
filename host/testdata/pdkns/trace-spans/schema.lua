return {
  name = "trace-spans",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
