-- a plugin's own entity, for spec.fixtures.admin_api and blueprints specs
local typedefs = require "kong.db.schema.typedefs"

return {
  {
    name = "label_keys",
    primary_key = { "id" },
    endpoint_key = "key",
    admin_api_name = "label-keys",
    fields = {
      { id = typedefs.uuid },
      { created_at = typedefs.auto_timestamp_s },
      { consumer = { type = "foreign", reference = "consumers", required = true, on_delete = "cascade" } },
      { key = { type = "string", required = true, unique = true } },
      { label = { type = "string", custom_validator = function(v)
        if v == "forbidden" then
          return nil, "label 'forbidden' is refused"
        end
        return true
      end } },
    },
  },
}
