return {
  name = "nocachekey",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
