local llm = require "kong.llm"

return {
  name = "envschema",
  fields = {
    { config = llm.config_schema },
  },
}
