return {
  name = "nottl",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
