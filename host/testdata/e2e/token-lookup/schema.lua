return {
  name = "token-lookup",
  fields = {
    { config = { type = "record", fields = { { key = { type = "string", required = true } } } } },
  },
}
