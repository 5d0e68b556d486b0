local typedefs = require "kong.db.schema.typedefs"

return {
  {
    name = "admin_notes",
    primary_key = { "id" },
    endpoint_key = "title",
    cache_key = { "title" },
    workspaceable = true,
    admin_api_name = "notes",
    admin_api_nested_name = "note",
    fields = {
      { id = typedefs.uuid },
      { created_at = typedefs.auto_timestamp_s },
      { consumer = { type = "foreign", reference = "consumers", required = true, on_delete = "cascade" } },
      { title = { type = "string", required = true, unique = true } },
      { body = { type = "string" } },
      { tags = typedefs.tags },
    },
  },
}
