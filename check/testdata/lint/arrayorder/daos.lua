local typedefs = require "kong.db.schema.typedefs"

return {
  {
    name = "arrayorder_children",
    primary_key = { "id" },
    fields = {
      { id = typedefs.uuid },
      { parent = { type = "foreign", reference = "arrayorder_parents" } },
    },
  },
  {
    name = "arrayorder_parents",
    primary_key = { "id" },
    fields = {
      { id = typedefs.uuid },
    },
  },
}
