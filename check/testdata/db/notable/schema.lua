return {
  name = "notable",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
