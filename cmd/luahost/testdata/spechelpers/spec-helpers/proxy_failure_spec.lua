-- fails on purpose: the failure shows the plugin handlers the proxy ran
local helpers = require "spec.helpers"

describe("a failing proxied request", function()
  lazy_setup(function()
    local bp = helpers.get_db_utils("off", nil, { "add-header" })
    local route = bp.routes:insert({ hosts = { "trace.test" } })
    bp.plugins:insert({ name = "add-header", route = { id = route.id }, config = {} })
    assert(helpers.start_kong({ database = "off", plugins = "bundled,add-header" }))
  end)

  lazy_teardown(function()
    helpers.stop_kong()
  end)

  it("shows the phases that ran", function()
    local res = helpers.proxy_client():get("/request", { headers = { host = "trace.test" } })
    assert.res_status(201, res)
  end)

  it("for a header too", function()
    local res = helpers.proxy_client():get("/request", { headers = { host = "trace.test" } })
    assert.response(res).has.header("x-absent")
  end)

  it("not for another client's response", function()
    local res = helpers.http_client("127.0.0.1", helpers.mock_upstream_port):get("/status/200")
    assert.res_status(201, res)
  end)
end)
