local typedefs = require "kong.db.schema.typedefs"

return {
  name = "token-auth",
  fields = {
    { consumer = typedefs.no_consumer },
    { protocols = typedefs.protocols_http },
    { config = {
        type = "record",
        fields = {
          { header_name = typedefs.header_name { required = true, default = "x-api-token" } },
          { query_param = { type = "string", required = false } },
          { hide_credentials = { type = "boolean", required = true, default = false } },
        },
      },
    },
  },
}
