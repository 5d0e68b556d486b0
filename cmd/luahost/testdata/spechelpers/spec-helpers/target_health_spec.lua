local helpers = require "spec.helpers"
local cjson = require "cjson"

-- the health endpoints see the balancers of the writes answered before
-- them: a target set healthy right after its upstream's health checks
-- were turned on, with no wait
describe("PUT /upstreams/:u/targets/:t/healthy after a write", function()
  local bp
  lazy_setup(function()
    bp = helpers.get_db_utils("postgres", { "upstreams", "targets" })
    assert(helpers.start_kong({ database = "postgres" }))
  end)
  lazy_teardown(function()
    helpers.stop_kong()
  end)

  it("finds the health checker at once", function()
    local c = helpers.admin_client()
    local u = bp.upstreams:insert({})
    local json = { ["Content-Type"] = "application/json" }
    assert.res_status(200, c:patch("/upstreams/" .. u.id, { headers = json, body = {
      healthchecks = { passive = { unhealthy = { tcp_failures = 1, http_failures = 1, timeouts = 1 } } } } }))
    assert.res_status(201, c:post("/upstreams/" .. u.id .. "/targets", { headers = json,
      body = { target = "127.0.0.1:8192", weight = 10 } }))
    assert.res_status(204, c:put("/upstreams/" .. u.id .. "/targets/127.0.0.1:8192/unhealthy"))
    local body = cjson.decode(assert.res_status(200, c:get("/upstreams/" .. u.id .. "/health")))
    assert.equal("UNHEALTHY", body.data[1].health)
    c:close()
  end)
end)
