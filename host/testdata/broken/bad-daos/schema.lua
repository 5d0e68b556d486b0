return {
  name = "bad-daos",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
