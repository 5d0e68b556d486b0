return {
  name = "sni-cert",
  fields = {
    { config = { type = "record", fields = {
      { sni = { type = "string", required = true } },
      { cert = { type = "string", required = true } },
      { key = { type = "string", required = true } },
    } } },
  },
}
