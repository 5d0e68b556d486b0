local typedefs = require "kong.db.schema.typedefs"

return {
  {
    name = "badsyntax_items",
    primary_key = { "id" }
    fields = {
      { id = typedefs.uuid },
    },
  },
}
