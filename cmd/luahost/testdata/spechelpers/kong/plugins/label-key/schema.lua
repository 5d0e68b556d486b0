local typedefs = require "kong.db.schema.typedefs"

return {
  name = "label-key",
  fields = {
    { protocols = typedefs.protocols_http },
    { config = { type = "record", fields = {} } },
  },
}
