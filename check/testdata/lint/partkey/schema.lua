return {
  name = "partkey",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
