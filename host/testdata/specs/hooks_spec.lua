-- busted's hook order and error reporting (host TestSpecRunnerHooks).
local log = {}
local function put(s) log[#log + 1] = s end

describe("order", function()
  lazy_setup(function() put("setup") end)
  lazy_teardown(function() put("teardown") end)
  before_each(function() put("before") end)
  after_each(function() put("after") end)

  it("a", function()
    put("a")
    finally(function() put("finally") end)
  end)

  describe("inner", function()
    before_each(function() put("inner before") end)
    after_each(function() put("inner after") end)
    it("b", function() put("b") end)
  end)
end)

describe("a failing before_each", function()
  before_each(function() error("before broke") end)
  after_each(function() put("after of a failed before") end)
  it("is an error", function() put("never") end)
end)

describe("check", function()
  it("saw busted's order", function()
    assert.same({ "setup", "before", "a", "finally", "after", "before", "inner before", "b", "inner after", "after",
      "teardown", "after of a failed before" }, log)
  end)
end)

describe("a failing lazy_setup", function()
  lazy_setup(function() error("setup broke") end)
  lazy_teardown(function() put("teardown after a failed setup") end)
  it("t1", function() end)
  describe("nested", function()
    it("t2", function() end)
  end)
end)

describe("a failing describe body", function()
  it("never runs", function() end)
  local x = nil
  x.y = 1
end)

describe("a describe body raising a table", function()
  error({ code = 1 })
end)

insulate("insulated", function()
  body_global = "in body"
  package.loaded["fake.mod"] = { 1 }
  it("sees its body's globals", function()
    assert.equal("in body", body_global)
    assert.same({ 1 }, package.loaded["fake.mod"])
    test_global = 1
  end)
end)

expose("exposed", function()
  exposed_global = "kept"
end)

describe("after insulate and expose", function()
  it("sees none of the insulated globals, the exposed ones", function()
    assert.is_nil(body_global)
    assert.is_nil(test_global)
    assert.is_nil(package.loaded["fake.mod"])
    assert.equal("kept", exposed_global)
  end)
end)

describe("a failing teardown", function()
  teardown(function() error("teardown broke") end)
  it("passes", function() end)
end)

describe("pending inside a test", function()
  it("stops it and reports it pending", function()
    pending("not written yet")
    error("never reached")
  end)
end)

describe("after a failed lazy_setup", function()
  it("its lazy_teardown ran", function()
    assert.equal("teardown after a failed setup", log[#log])
  end)
end)
