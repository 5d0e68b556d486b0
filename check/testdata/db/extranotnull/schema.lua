return {
  name = "extranotnull",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
