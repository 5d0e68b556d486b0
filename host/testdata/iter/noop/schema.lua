return {
  name = "noop",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
