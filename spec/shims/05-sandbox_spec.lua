-- kong.tools.sandbox shim (untrusted_lua unset = Kong's default "sandbox").

describe("kong.tools.sandbox", function()
  local sandbox = require "kong.tools.sandbox"

  it("is enabled and sandboxed by default", function()
    assert.is_true(sandbox.configuration.enabled)
    assert.is_true(sandbox.configuration.sandbox_enabled)
    assert.equal("loading of untrusted Lua code disabled because 'untrusted_lua' config option is set to 'off'",
                 sandbox.configuration.err_msg)
  end)

  it("runs code with the safe subset and the given env", function()
    local fn = sandbox.sandbox("return string.upper(x) .. math.floor(2.5) .. type(ngx)", { env = { x = "a" } })
    assert.equal("a2table", fn():lower())
  end)

  it("hides unsafe globals and denies require", function()
    local fn = sandbox.sandbox("return os.execute, io.open, loadstring, setfenv, os.time ~= nil")
    local a, b, c, d, e = fn()
    assert.is_nil(a)
    assert.is_nil(b)
    assert.is_nil(c)
    assert.is_nil(d)
    assert.is_true(e)
    local ok, err = pcall(sandbox.sandbox("return require('os')"))
    assert.is_false(ok)
    assert.equal("require 'os' not allowed within sandbox", err)
  end)

  it("configuration.environment is kong, ngx, require and _G only, as Kong's", function()
    -- plugins copy it as their templates' environment (request-transformer):
    -- the safe Lua subset is not in it
    local env = sandbox.configuration.environment
    assert.is_table(env.kong)
    assert.equal(ngx, env.ngx)
    assert.is_function(env.require)
    assert.equal(env, env._G)
    assert.is_nil(rawget(env, "string"))
    assert.is_nil(rawget(env, "type"))
    -- a chunk compiled by the sandbox has both
    assert.equal("A table", sandbox.sandbox("return string.upper('a') .. ' ' .. type(kong)")())
    assert.equal("mine", sandbox.sandbox("return type(1)", { env = { type = function() return "mine" end } })())
  end)

  it("does not let code change the real libraries", function()
    sandbox.sandbox("string.upper = nil")()
    assert.is_function(string.upper)
  end)

  it("validates functions with Kong's messages", function()
    assert.is_true(sandbox.validate("return function() end"))
    local ok, err = sandbox.validate("return 1")
    assert.is_false(ok)
    assert.equal("Bad return value from function, expected function type, got number", err)
    ok, err = sandbox.validate("return (")
    assert.is_false(ok)
    assert.matches("^Error parsing function: ", err)
    assert.is_true(sandbox.validate_safe("return 1"))
    assert.is_function(sandbox.parse("return function() return 7 end"))
    assert.equal(7, sandbox.parse("return function() return 7 end")())
    assert.has_error(function() sandbox.parse("return 2") end)
  end)
end)
