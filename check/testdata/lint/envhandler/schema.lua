return {
  name = "envhandler",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
