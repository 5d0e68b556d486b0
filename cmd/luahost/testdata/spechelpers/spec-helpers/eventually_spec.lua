local helpers = require "spec.helpers"

describe("assert.eventually", function()
  it("retries until the condition holds", function()
    local n = 0
    assert.eventually(function() n = n + 1; return n >= 3 end).with_timeout(60).with_step(0).is_truthy()
    assert.equal(3, n)
    n = 0
    assert.eventually(function() n = n + 1; assert(n >= 2, "not yet") end).has_no_error("retried")
    assert.equal(2, n)
    assert.eventually(function() error("boom") end).has_error()
    assert.eventually(function() return false end).is_falsy()
  end)

  it("a raised error ends the wait unless exceptions are ignored", function()
    local n = 0
    local ok, err = pcall(function()
      assert.eventually(function() n = n + 1; error("broken") end).with_timeout(60).is_truthy("never true")
    end)
    assert.is_false(ok)
    assert.equal(1, n)
    assert.matches("error() raised", tostring(err.message), 1, true)
    assert.matches("broken", tostring(err.message), 1, true)
    n = 0
    assert.eventually(function() n = n + 1; if n < 3 then error("not yet") end; return true end)
      .ignore_exceptions(true).with_step(0).is_truthy()
    assert.equal(3, n)
  end)

  it("fails after max tries or the timeout", function()
    local ok, err = pcall(function()
      assert.eventually(function() return nil, "still down" end).with_max_tries(2).with_step(0).is_truthy()
    end)
    assert.is_false(ok)
    assert.matches("max tries (2) reached", err.message, 1, true)
    assert.matches("still down", err.message, 1, true)
    ok, err = pcall(function()
      assert.eventually(function() return false end).with_timeout(0).is_truthy()
    end)
    assert.is_false(ok)
    assert.matches("timed out after", err.message, 1, true)
  end)

  it("refuses an unknown condition", function()
    local ok, err = pcall(function() return assert.eventually(function() end).is_awesome() end)
    assert.is_false(ok)
    assert.matches("unknown modifier/assertion: is_awesome", err, 1, true)
  end)
end)
