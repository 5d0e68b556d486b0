-- The canary: tests that MUST fail and MUST error. It is not a spec of
-- luahost's behaviour but of the runner's honesty: TestCanary (spec/
-- canary_test.go) and scripts/test.sh run it and require exactly
-- 4 successes, 11 failures and 4 errors. If the runner ever reports one of
-- these as passing (as it did when gopher-lua detached upvalues after a
-- caught error), CI turns red. The *_canary.lua name (not *_spec.lua) keeps it out of the
-- ordinary spec runs.

describe("canary: must fail", function()
  it("fails after pcall(error)", function()
    pcall(error, "x")
    assert.equal(1, 2)
  end)

  it("fails after a caught runtime error", function()
    pcall(function() local t = nil; return t.x end)
    assert.is_true(false)
  end)

  it("fails after xpcall", function()
    xpcall(function() error({}) end, function(e) return e end)
    assert.same({ 1 }, { 2 })
  end)

  it("fails after assert.has_error", function()
    assert.has_error(function() error("boom") end)
    assert.equal("a", "b")
  end)

  it("fails after a kong.cache:get whose callback errors", function()
    kong.cache:get("canary-key", nil, function() error("callback failed") end)
    assert.truthy(nil)
  end)

  it("fails after a kong.cache:get", function()
    kong.cache:get("canary-ok", nil, function() return "v" end)
    assert.is_false(true)
  end)

  it("fails after select_by_<field>", function()
    kong.db.token_credentials:select_by_key("nope")
    assert.equal(1, 2)
  end)

  it("fails after truncate", function()
    kong.db.token_credentials:truncate()
    assert.is_nil(0)
  end)

  it("fails after an error inside a coroutine", function()
    local co = coroutine.create(function() error("in coroutine") end)
    coroutine.resume(co)
    assert.equal(1, 2)
  end)

  it("fails after a pcall inside a coroutine", function()
    coroutine.wrap(function() pcall(error, "x") end)()
    assert.falsy(true)
  end)

  it("fails in a nested protected call", function()
    pcall(function() pcall(error, "inner"); error("outer") end)
    assert.error_matches(function() end, "never")
  end)
end)

describe("canary: must error", function()
  it("errors with a plain error", function()
    error("plain error")
  end)

  it("errors with a runtime error after a caught one", function()
    pcall(error, "x")
    local t = nil
    return t.field
  end)

  describe("a failing before_each", function()
    before_each(function() error("hook failed") end)
    it("is an error", function() end)
  end)

  it("errors when it runs longer than the per-test timeout", function()
    while true do end
  end)
end)

describe("canary: must pass", function()
  local v = "before"
  local function set(x) v = x end

  it("sees its upvalues written after a caught error", function()
    pcall(error, "x")
    set("after")
    assert.equal("after", v)
    -- a local of this live frame, written through a closure made before
    -- the error: gopher-lua#448 detached it
    local status = "success"
    local function fail() status = "failure" end
    pcall(error, "x")
    fail()
    assert.equal("failure", status)
  end)

  it("still runs after a timed-out test", function()
    assert.equal(1, 1)
  end)

  it("counts a pcall-caught failure as caught", function()
    local ok = pcall(assert.equal, 1, 2)
    assert.is_false(ok)
  end)

  it("keeps live locals through kong.cache callbacks that error", function()
    local n = 0
    local function inc() n = n + 1 end
    kong.cache:get("canary-pass", nil, function() error("x") end)
    local ok = pcall(function() pcall(error, "y"); error("z") end)
    inc()
    assert.is_false(ok)
    assert.equal(1, n)
  end)
end)
