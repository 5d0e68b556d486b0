return {
  name = "tidy",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
