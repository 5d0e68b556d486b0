local typedefs = require "kong.db.schema.typedefs"

return {
  name = "response-stamp",
  fields = {
    { protocols = typedefs.protocols_http },
    { config = {
        type = "record",
        fields = {
          { header_name = typedefs.header_name { required = true, default = "X-Luahost-Stamp" } },
          { prefix = { type = "string", required = true, default = "luahost" } },
        },
      },
    },
  },
}
