return {
  name = "notrigger",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
