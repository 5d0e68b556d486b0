return {
  name = "chatty",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
