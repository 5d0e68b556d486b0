local typedefs = require "kong.db.schema.typedefs"
local helpers = nil

return {
  name = "bad-schema",
  fields = {
    { config = helpers.record { fields = {} } },
  },
}
