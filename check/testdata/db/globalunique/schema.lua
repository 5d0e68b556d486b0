return {
  name = "globalunique",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
