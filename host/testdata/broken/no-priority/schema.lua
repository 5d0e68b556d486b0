return {
  name = "no-priority",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
