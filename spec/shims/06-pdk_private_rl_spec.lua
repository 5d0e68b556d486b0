-- kong.pdk.private.rate_limiting shim.

describe("kong.pdk.private.rate_limiting", function()
  local rl = require "kong.pdk.private.rate_limiting"

  it("stores and reads headers in the request context", function()
    local ctx = {}
    assert.is_nil(rl.get_stored_response_header(ctx, "X-A"))
    rl.store_response_header(ctx, "X-A", 5)
    rl.store_response_header(ctx, "X-B", "x")
    assert.equal(5, rl.get_stored_response_header(ctx, "X-A"))
    assert.same({ ["X-A"] = 5, ["X-B"] = "x" }, ctx.__rate_limiting_context__)
    rl.apply_response_headers({}) -- nothing stored: no-op
  end)

  it("checks its arguments with Kong's messages", function()
    local ok, err = pcall(rl.store_response_header, {}, 1, 2)
    assert.is_false(ok)
    assert.matches("arg #2 `key` for function `store_response_header` must be a string, got number", err, 1, true)
    ok, err = pcall(rl.store_response_header, {}, "k", true)
    assert.is_false(ok)
    assert.matches("arg #3 `value` for function `store_response_header` must be a string or a number, got boolean", err, 1, true)
    ok, err = pcall(rl.get_stored_response_header, {}, nil)
    assert.is_false(ok)
    assert.matches("arg #2 `key` for function `get_stored_response_header` must be a string, got nil", err, 1, true)
  end)
end)
