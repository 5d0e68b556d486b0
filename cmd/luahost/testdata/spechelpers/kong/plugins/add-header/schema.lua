local typedefs = require "kong.db.schema.typedefs"

return {
  name = "add-header",
  fields = {
    { consumer = typedefs.no_consumer },
    { protocols = typedefs.protocols_http },
    { config = {
        type = "record",
        fields = {
          { request_header = typedefs.header_name { required = true, default = "Hello-World" } },
          { response_header = typedefs.header_name { required = true, default = "Bye-World" } },
        },
    } },
  },
}
