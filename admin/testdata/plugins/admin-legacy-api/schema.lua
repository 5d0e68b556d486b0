local typedefs = require "kong.db.schema.typedefs"

return {
  name = "admin-legacy-api",
  fields = {
    { protocols = typedefs.protocols_http },
    { config = { type = "record", fields = {} } },
  },
}
