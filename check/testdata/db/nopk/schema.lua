return {
  name = "nopk",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
