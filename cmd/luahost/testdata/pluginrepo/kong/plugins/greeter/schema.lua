local typedefs = require "kong.db.schema.typedefs"

return {
  name = "greeter",
  fields = {
    { consumer = typedefs.no_consumer },
    { protocols = typedefs.protocols_http },
    { config = {
        type = "record",
        fields = {
          { greeting = { type = "string", required = true, default = "hello" } },
          { upstream_header = typedefs.header_name { required = true, default = "X-Greeting" } },
          { client_header = typedefs.header_name { required = true, default = "X-Greeted" } },
        },
        entity_checks = {
          { distinct = { "upstream_header", "client_header" } },
        },
      },
    },
  },
}
