local helpers = require "spec.helpers"
local cjson = require "cjson"

-- POST /config (DB-less) validates plugins' configurations with their
-- schemas' Lua functions, as Kong does in its worker
describe("POST /config [#off]", function()
  local admin

  lazy_setup(function()
    helpers.get_db_utils("off", { "routes", "services" }, { "add-header" })
    assert(helpers.start_kong({ database = "off", plugins = "bundled,add-header" }))
  end)

  lazy_teardown(function()
    helpers.stop_kong()
  end)

  before_each(function()
    admin = helpers.admin_client()
  end)

  local function post(label)
    return admin:send({ method = "POST", path = "/config", headers = { ["Content-Type"] = "application/json" },
      body = { config = "_format_version: '3.0'\nplugins:\n- name: add-header\n  config:\n    label: " .. label .. "\n" } })
  end

  it("runs a custom_validator", function()
    local body = assert.res_status(400, post("refused"))
    assert.matches("refused by add-header's validator", cjson.decode(body).message, 1, true)
    assert.res_status(201, post("fine"))
  end)
end)
