return {
  name = "apiargs",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
