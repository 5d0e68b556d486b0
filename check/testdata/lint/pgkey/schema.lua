return {
  name = "pgkey",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
