-- apikey-0x's configuration, a Kong 0.x schema (fields as a map).
return {
  no_consumer = true,
  fields = {
    key_name = { type = "string", default = "apikey" },
    hide_credentials = { type = "boolean", default = false },
  },
}
