return {
  name = "legacy-utils",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
