local helpers = require "spec.helpers" -- luacheck: ignore

describe("spec.helpers.wait", function()
  it("eventually retries until the condition holds", function()
    local n = 0
    local v = assert
      .with_timeout(5)
      .with_step(0.01)
      .eventually(function()
        n = n + 1
        return n >= 3 and "done" or nil
      end)
      .is_truthy("three calls")
    assert.equal("done", v)
    assert.equal(3, n)

    n = 0
    assert
      .with_timeout(5)
      .with_max_tries(10)
      .with_step(0.01)
      .ignore_exceptions(false)
      .eventually(function()
        n = n + 1
        assert(n >= 4, "not yet")
      end)
      .has_no_error("raises three times")
    assert.equal(4, n)

    assert.eventually(function() error("always") end).with_step(0.01).has_error()
    assert.eventually(function() return false end).is_falsy()
  end)

  it("fails naming why the wait ended", function()
    local ok, err = pcall(function()
      assert.with_max_tries(2).with_step(0.01).eventually(function() return nil, "nope" end)
        .is_truthy("never true")
    end)
    assert.is_false(ok)
    err = tostring(type(err) == "table" and err.message or err)
    assert.matches("never true", err, 1, true)
    assert.matches("max tries (2) reached", err, 1, true)
    assert.matches("nope", err, 1, true)

    ok, err = pcall(function()
      assert.with_step(0.01).eventually(function() error("boom") end).is_truthy("stops at once")
    end)
    assert.is_false(ok)
    err = tostring(type(err) == "table" and err.message or err)
    assert.matches("error() raised", err, 1, true)
    assert.matches("boom", err, 1, true)

    ok = pcall(function()
      assert.wait_until({ fn = function() return false end, timeout = 0.05, step = 0.01 }, "short")
    end)
    assert.is_false(ok)
  end)
end)
