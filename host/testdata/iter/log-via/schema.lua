return {
  name = "log-via",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
