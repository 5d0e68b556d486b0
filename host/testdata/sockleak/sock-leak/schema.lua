return {
  name = "sock-leak",
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
