return {
  name = "mapform",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
