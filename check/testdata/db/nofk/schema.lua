return {
  name = "nofk",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
