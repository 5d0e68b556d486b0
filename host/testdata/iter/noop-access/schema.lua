return {
  name = "noop-access",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
