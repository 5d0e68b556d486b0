return {
  name = "post-log",
  fields = {
    { config = { type = "record", fields = {
      { http_endpoint = { type = "string", required = true } },
      { serialize = { type = "boolean", default = false } },
    } } },
  },
}
