return {
  name = "badtype",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
