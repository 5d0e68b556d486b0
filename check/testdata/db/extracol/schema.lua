return {
  name = "extracol",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
