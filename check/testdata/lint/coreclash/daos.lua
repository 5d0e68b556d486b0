local typedefs = require "kong.db.schema.typedefs"

return {
  {
    name = "upstreams",
    primary_key = { "id" },
    fields = {
      { id = typedefs.uuid },
    },
  },
}
