-- kong.observability.tracing.propagation.schema: the tracing propagation
-- record (typedefs.propagation), as in Kong 3.7+.

local Schema = require "kong.db.schema"

-- Header formats Kong knows; "b3-single" is extracted by the b3 extractor.
local FORMATS = { "w3c", "b3", "b3-single", "jaeger", "ot", "datadog", "aws", "gcp", "instana" }

local extractors, injectors = {}, {}
for _, f in ipairs(FORMATS) do
  if f ~= "b3-single" then
    extractors[#extractors + 1] = f
  end
  injectors[#injectors + 1] = f
end

local inject_values = { "preserve" }
for _, f in ipairs(injectors) do
  inject_values[#inject_values + 1] = f
end

return Schema.define {
  type = "record",
  fields = {
    { extract = {
        type = "array",
        elements = { type = "string", one_of = extractors },
        description = "Header formats read, in order, to extract the incoming tracing context.",
    } },
    { clear = {
        type = "array",
        elements = { type = "string", custom_validator = require("luahost.builtin").header_name },
        description = "Header names removed from the request after the context is extracted.",
    } },
    { inject = {
        type = "array",
        elements = { type = "string", one_of = inject_values },
        description = "Header formats written to outgoing requests; preserve keeps the incoming format.",
    } },
    { default_format = {
        type = "string", required = true, one_of = injectors,
        description = "Format injected for preserve when no incoming format was found.",
    } },
  },
}
