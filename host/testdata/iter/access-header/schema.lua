return {
  name = "access-header",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
