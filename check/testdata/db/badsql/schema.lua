return {
  name = "badsql",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
