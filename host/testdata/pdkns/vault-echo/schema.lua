return {
  name = "vault-echo",
  fields = {
    { config = { type = "record", fields = {
      { secret = { type = "string", referenceable = true } },
      { plain = { type = "string" } },
    } } },
  },
}
