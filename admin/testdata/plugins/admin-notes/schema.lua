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
        shorthand_fields = {
          { per_minute = {
              type = "number",
              deprecation = {
                replaced_with = { { path = { "minute" } } },
                message = "admin-notes: config.per_minute is deprecated, please use config.minute instead",
                removal_in_version = "4.0",
              },
              func = function(value) return { minute = value } end,
          } },
        },
      },
    },
  },
}
