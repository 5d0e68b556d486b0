local typedefs = require "kong.db.schema.typedefs"

return {
  {
    name = "singlekey_items",
    primary_key = { "id" },
    cache_key = { "name" },
    fields = {
      { id = typedefs.uuid },
      { name = { type = "string", required = true } },
    },
  },
}
