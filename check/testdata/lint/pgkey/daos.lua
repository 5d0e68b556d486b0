local typedefs = require "kong.db.schema.typedefs"

return {
  {
    name = "pgkey_items",
    primary_key = { "id" },
    cache_key = { "consumer", "name" },
    workspaceable = true,
    ttl = true,
    fields = {
      { id = typedefs.uuid },
      { created_at = typedefs.auto_timestamp_s },
      { consumer = { type = "foreign", reference = "consumers", required = true, on_delete = "cascade" } },
      { name = { type = "string", required = true, unique = true } },
      { count = { type = "integer", default = 0 } },
      { tags = typedefs.tags },
    },
  },
}
