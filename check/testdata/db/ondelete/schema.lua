return {
  name = "ondelete",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
