-- kong.pdk.private.phases: Kong's masks, names back from masks, the
-- request alias, check/check_not with Kong's messages; loading it does
-- not fill an array up to 0x01000000 (it took seconds and 256 MB)
local phases = require "kong.pdk.private.phases"

describe("kong.pdk.private.phases", function()
  it("has Kong's masks and names them back", function()
    local p = phases.phases
    assert.equal(0x20, p.access)
    assert.equal(0x01000000, p.error)
    assert.equal(0x10000000, p.admin_api)
    assert.equal("error", p[0x01000000])
    assert.equal("admin_api", p[0x10000000])
    assert.equal("log", p[0x2000])
    assert.equal(phases.new(p.rewrite, p.access, p.balancer, p.response, p.header_filter, p.body_filter,
      p.log, p.error, p.admin_api, p.cluster_listener), p.request)
    assert.has_error(function() return p.nope end, "unknown phase or phase alias: nope")
  end)

  it("checks the current phase with Kong's messages", function()
    local p = phases.phases
    ngx.ctx.KONG_PHASE = p.log
    local function api() phases.check(phases.new(p.access, p.rewrite)) end
    local ok, err = pcall(api)
    assert.is_false(ok)
    assert.matches("function cannot be called in log phase (only in: rewrite, access)", err, nil, true)
    ok, err = pcall(function() phases.check_not(p.log) end)
    assert.is_false(ok)
    assert.matches("function cannot be called in log phase (can be called in any phases except: log)", err, nil, true)
    ngx.ctx.KONG_PHASE = p.access
    assert.has_no_error(api)
    ngx.ctx.KONG_PHASE = nil
  end)
end)
