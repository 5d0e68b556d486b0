return {
  name = "tenents",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
