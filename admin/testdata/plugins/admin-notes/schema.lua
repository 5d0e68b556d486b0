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
          { old_size = { type = "integer", deprecation = {
              message = "admin-notes: config.old_size is deprecated", removal_in_version = "9.0", old_default = 1 } } },
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
