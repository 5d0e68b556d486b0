local typedefs = require "kong.db.schema.typedefs"

return {
  name = "cosocket-peer",
  fields = {
    { protocols = typedefs.protocols_http },
    { config = {
        type = "record",
        fields = {
          { host = { type = "string", required = true } },
          { port = typedefs.port { required = true } },
          { udp = { type = "boolean", default = false } },
        },
    } },
  },
}
