return {
  name = "handkey",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
