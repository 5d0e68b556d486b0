-- Kong's stop_kong removes the node's prefix, error log included, unless
-- its preserve_prefix is set (restart_kong sets it): a node started after
-- stop_kong begins with an empty error log, one restarted keeps it
local helpers = require "spec.helpers"

describe("the error log across nodes [#off]", function()
  lazy_teardown(function()
    helpers.stop_kong()
  end)

  it("is emptied by stop_kong, kept by stop_kong(prefix, true) and restart_kong", function()
    helpers.get_db_utils("off", { "routes" })
    assert(helpers.start_kong({ database = "off" }))
    local f = assert(io.open(helpers.test_conf.nginx_err_logs, "a"))
    f:write("2024/01/01 00:00:00 [error] 1#0: a line of the first node\n")
    f:close()
    assert.logfile().has.line("a line of the first node", true, 0)

    assert(helpers.restart_kong({ database = "off" }))
    assert.logfile().has.line("a line of the first node", true, 0)

    helpers.stop_kong(nil, true)
    assert(helpers.start_kong({ database = "off" }))
    assert.logfile().has.line("a line of the first node", true, 0)

    helpers.stop_kong()
    assert(helpers.start_kong({ database = "off" }))
    assert.logfile().has.no.line("a line of the first node", true, 0)
  end)
end)
