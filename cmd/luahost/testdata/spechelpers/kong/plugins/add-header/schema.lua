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
          -- a default checked by its custom_validator at load (Kong's
          -- MetaSchema), and a validator run by blueprints and kong.yml
          { label = { type = "string", default = "plain",
              custom_validator = function(v)
                if v == "refused" then
                  return nil, "refused by add-header's validator"
                end
                return true
              end } },
          { response_header = typedefs.header_name { required = true, default = "Bye-World" } },
        },
    } },
  },
}
