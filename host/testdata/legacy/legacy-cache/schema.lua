return {
  name = "legacy-cache",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
