return {
  name = "maporder",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
