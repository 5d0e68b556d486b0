local typedefs = require "kong.db.schema.typedefs"

return {
  maporder_children = {
    primary_key = { "id" },
    fields = {
      { id = typedefs.uuid },
      { parent = { type = "foreign", reference = "maporder_parents", on_delete = "cascade" } },
    },
  },
  maporder_parents = {
    primary_key = { "id" },
    fields = {
      { id = typedefs.uuid },
    },
  },
}
