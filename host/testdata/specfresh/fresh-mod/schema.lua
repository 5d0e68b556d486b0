return {
  name = "fresh-mod",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
