local typedefs = require "kong.db.schema.typedefs"

return {
  {
    name = "fieldclash_demos",
    primary_key = { "id" },
    fields = {
      { id = typedefs.uuid },
      { version = { type = "string", required = true } },
      { plugins = { type = "string", required = true } },
    },
  },
}
