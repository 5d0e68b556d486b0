-- wait_timer against a node: a plugin's timers, named by kong.timer or
-- after their call site, followed through the Admin API's GET /timers
local helpers = require "spec.helpers"
local cjson = require "cjson"

describe("wait_timer [#off]", function()
  local proxy

  lazy_setup(function()
    local bp = helpers.get_db_utils("off", { "routes", "services", "plugins" }, { "timer-start" })
    local route = bp.routes:insert({ hosts = { "timers.test" } })
    bp.plugins:insert({ name = "timer-start", route = { id = route.id } })
    assert(helpers.start_kong({ database = "off", plugins = "bundled,timer-start" }))
    proxy = helpers.proxy_client()
  end)

  lazy_teardown(function()
    if proxy then proxy:close() end
    helpers.stop_kong()
  end)

  it("waits for a named timer to run, then to finish", function()
    -- nothing started yet: no timer of that name is left to finish
    helpers.wait_timer("timer-start-held", true, "all-finish")

    assert.res_status(200, proxy:get("/hold", { headers = { host = "timers.test" } }))
    helpers.wait_timer("timer-start-held", true, "any-running")

    -- GET /timers as Kong's: the held one runs, the unnamed one (the
    -- worker runs one timer at a time) waits, named after its call site
    local admin = helpers.admin_client()
    local json = cjson.decode(assert.res_status(200, admin:get("/timers")))
    admin:close()
    assert.same({ id = 0, count = 1 }, json.worker)
    assert.is_true(json.stats.timers["timer-start-held"].is_running)
    local unnamed
    for name, timer in pairs(json.stats.timers) do
      if name:find("timer-start/handler.lua", 1, true) then unnamed = timer end
    end
    assert.is_table(unnamed)
    assert.is_false(unnamed.is_running)
    assert.matches("^unix_timestamp=%d+%.000000;counter=%d+:meta=@.*kong/plugins/timer%-start/handler%.lua:20:",
      unnamed.name)
    assert.is_string(json.stats.flamegraph.running)

    helpers.wait_timer("timer-start-held", true, "all-running")
    -- both of the plugin's timers: one runs, the other waits
    local ok, err = pcall(helpers.wait_timer, "timer%-start", false, "all-running", 0.2)
    assert.is_false(ok)
    assert.matches('all-running: worker 0 had 2 timer(s) matching "timer%-start", 1 running', tostring(err), 1, true)

    -- still running: all-finish gives up with wait_until's error
    ok, err = pcall(helpers.wait_timer, "timer-start-held", true, "all-finish", 0.2)
    assert.is_false(ok)
    assert.matches('wait_until() timeout: all-finish: worker 0 had 1 timer(s) matching "timer-start-held", 1 running',
      tostring(err), 1, true)

    assert.res_status(200, proxy:get("/release", { headers = { host = "timers.test" } }))
    helpers.wait_timer("timer-start-held", true, "all-finish", 5)
    -- a pattern: the unnamed one runs after the held one and ends too
    helpers.wait_timer("timer%-start/handler%.lua", false, "worker-wide-all-finish", 5)
    helpers.wait_timer("timer-start", true, "any-finish")
  end)

  it("refuses a mode it does not know", function()
    local ok, err = pcall(helpers.wait_timer, "x", true, "some-finish")
    assert.is_false(ok)
    assert.matches("unknown mode some-finish", tostring(err), 1, true)
  end)
end)
