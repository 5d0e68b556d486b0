local typedefs = require "kong.db.schema.typedefs"

return {
  name = "admin-notes",
  fields = {
    { protocols = typedefs.protocols_http },
    { config = {
        type = "record",
        fields = {
          { key_names = { type = "array", elements = { type = "string" }, default = { "apikey" } } },
          { minute = { type = "number" } },
          { strict = { type = "boolean", default = false } },
          { limits = { type = "record", fields = {
              { hour = { type = "integer" } },
          } } },
        },
      },
    },
  },
}
