local typedefs = require "kong.db.schema.typedefs"

return {
  {
    name = "keyauth_credentials",
    primary_key = { "id" },
    fields = {
      { id = typedefs.uuid },
      { key = { type = "string", unique = true } },
    },
  },
}
