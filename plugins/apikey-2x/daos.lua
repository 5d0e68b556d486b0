-- apikey-2x: an api-key entity as a Kong 1.x/2.x plugin declared it (the
-- map form of daos.lua, new-style fields); its cache_key lets the core
-- invalidate the cached credential on every write.
local typedefs = require "kong.db.schema.typedefs"

return {
  apikeys2 = {
    name = "apikeys2",
    primary_key = { "id" },
    cache_key = { "key" },
    generate_admin_api = false,
    fields = {
      { id = typedefs.uuid },
      { created_at = typedefs.auto_timestamp_s },
      { consumer = { type = "foreign", reference = "consumers", required = true, on_delete = "cascade" } },
      { key = { type = "string", required = true, unique = true } },
    },
  },
}
