return {
  name = "light-threads",
  fields = {
    { config = {
        type = "record",
        fields = {
          { host = { type = "string", required = true } },
          { port = { type = "integer", required = true } },
        },
    } },
  },
}
