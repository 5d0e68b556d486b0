local helpers = require "spec.helpers"
local schema_def = require "kong.plugins.greeter.schema"

describe("greeter: (schema)", function()
  it("takes a greeting and two header names", function()
    local ok, err = helpers.validate_plugin_config_schema({ greeting = "hi", upstream_header = "X-A" }, schema_def)
    assert.is_nil(err)
    assert.is_truthy(ok)
  end)

  it("refuses the same header twice", function()
    local ok, err = helpers.validate_plugin_config_schema({ upstream_header = "X-A", client_header = "X-A" }, schema_def)
    assert.is_falsy(ok)
    assert.is_table(err)
  end)
end)
