local typedefs = require "kong.db.schema.typedefs"

return {
  mapform_notes = {
    primary_key = { "id" },
    fields = {
      { id = typedefs.uuid },
      { text = { type = "string" } },
    },
  },
}
