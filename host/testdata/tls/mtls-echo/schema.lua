return {
  name = "mtls-echo",
  fields = {
    { config = { type = "record", fields = {
      { ca_pems = { type = "array", elements = { type = "string" }, default = {} } },
      { fail = { type = "boolean", default = false } },
      { exit = { type = "integer" } },
    } } },
  },
}
