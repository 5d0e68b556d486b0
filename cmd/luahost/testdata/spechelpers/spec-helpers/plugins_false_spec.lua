local helpers = require "spec.helpers"

-- start_kong{ plugins = false } (Kong's specs write `plugins = cond and
-- "..."`) starts the node with the default plugins, as Kong's kong_exec
-- takes a false plugins as none given
describe("start_kong plugins = false [#off]", function()
  lazy_setup(function()
    helpers.get_db_utils("off", { "routes", "services" })
    assert(helpers.start_kong({ database = "off", plugins = false }))
  end)

  lazy_teardown(function()
    helpers.stop_kong()
  end)

  it("enables the default plugins", function()
    local res = helpers.admin_client():get("/")
    local body = assert.res_status(200, res)
    assert.matches('"add-header"', body, 1, true)
  end)
end)
