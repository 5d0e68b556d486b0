local helpers = require "spec.helpers"

describe("a failing status [#off]", function()
  lazy_setup(function()
    local bp = helpers.get_db_utils("off")
    bp.routes:insert({ hosts = { "fail.test" } })
    assert(helpers.start_kong({ database = "off" }))
  end)
  lazy_teardown(function() helpers.stop_kong() end)

  it("is a failure at the spec's line", function()
    local res = helpers.proxy_client():get("/status/503", { headers = { host = "fail.test" } })
    assert.res_status(200, res)
  end)
end)
