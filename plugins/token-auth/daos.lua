local typedefs = require "kong.db.schema.typedefs"

return {
  {
    name = "token_credentials",
    primary_key = { "id" },
    endpoint_key = "key",
    cache_key = { "key" },
    workspaceable = true,
    ttl = true,
    admin_api_name = "token-auths",
    admin_api_nested_name = "token-auth",
    fields = {
      { id = typedefs.uuid },
      { created_at = typedefs.auto_timestamp_s },
      { consumer = { type = "foreign", reference = "consumers", required = true, on_delete = "cascade" } },
      { key = { type = "string", required = false, unique = true, auto = true } },
      { label = { type = "string", required = false } },
      { tags = typedefs.tags },
    },
  },
}
