-- written the way Kong's plugin template writes its schema spec
local PLUGIN_NAME = "add-header"

local validate do
  local validate_entity = require("spec.helpers").validate_plugin_config_schema
  local plugin_schema = require("kong.plugins." .. PLUGIN_NAME .. ".schema")

  function validate(data)
    return validate_entity(data, plugin_schema)
  end
end

describe(PLUGIN_NAME .. ": (schema)", function()
  it("accepts distinct request_header and response_header", function()
    local ok, err = validate({
        request_header = "My-Request-Header",
        response_header = "Your-Response",
      })
    assert.is_nil(err)
    assert.is_truthy(ok)
  end)

  it("rejects a request_header that is no header name", function()
    local ok, err = validate({ request_header = "not a header" })
    assert.is_falsy(ok)
    assert.is_table(err.config)
    assert.is_string(err.config.request_header)
  end)
end)

describe("setenv", function()
  it("sets and unsets the environment", function()
    local helpers = require "spec.helpers"
    assert(helpers.setenv("LUAHOST_SPEC_HELPERS_X", "1"))
    assert.equal("1", os.getenv("LUAHOST_SPEC_HELPERS_X"))
    assert(helpers.unsetenv("LUAHOST_SPEC_HELPERS_X"))
    assert.is_nil(os.getenv("LUAHOST_SPEC_HELPERS_X"))
  end)
end)
