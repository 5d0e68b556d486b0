return {
  name = "legacymig",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
