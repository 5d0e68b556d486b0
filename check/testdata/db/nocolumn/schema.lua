return {
  name = "nocolumn",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
