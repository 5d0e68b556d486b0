local typedefs = require "kong.db.schema.typedefs"
return {
  {
    name = "ws_creds",
    primary_key = { "id" },
    workspaceable = true,
    cache_key = { "consumer", "key" },
    fields = {
      { id = typedefs.uuid },
      { consumer = { type = "foreign", reference = "consumers", required = true, on_delete = "cascade" } },
      { key = { type = "string", required = true, unique = true } },
    },
  },
}
