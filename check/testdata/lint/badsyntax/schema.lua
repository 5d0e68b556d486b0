return {
  name = "badsyntax",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
