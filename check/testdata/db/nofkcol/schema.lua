return {
  name = "nofkcol",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
