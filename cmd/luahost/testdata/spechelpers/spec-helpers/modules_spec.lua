-- modules Kong's specs require beside spec.helpers: spec.internal.module,
-- resty.shell, kong.tools.time (spec.hybrid: hybrid_spec.lua)
local helpers = require "spec.helpers"

describe("spec.internal.module", function()
  it("reload requires a module afresh", function()
    local module = require "spec.internal.module"
    local a = require "spec.internal.misc"
    local b = module.reload("spec.internal.misc")
    assert.not_equal(a, b)
    assert.equal(b, require "spec.internal.misc")
    assert.equal(a.unindent, b.unindent)
  end)

  it("reload_helpers answers a fresh spec.helpers for the router flavors luahost has", function()
    local module = require "spec.internal.module"
    local fresh = module.reload_helpers("traditional_compatible")
    assert.not_equal(helpers, fresh)
    assert.equal(fresh, require "spec.helpers")
    assert.is_function(fresh.start_kong)
    assert.is_nil(os.getenv("KONG_ROUTER_FLAVOR"))
    assert.is_table(module.reload_helpers("traditional"))
    local ok, err = pcall(module.reload_helpers, "expressions")
    assert.is_false(ok)
    assert.matches("router_flavor 'expressions' not supported by luahost", err, nil, true)
  end)
end)

describe("resty.shell", function()
  it("runs a command as lua-resty-shell does", function()
    local shell = require "resty.shell"
    local ok, stdout, stderr, reason, status = shell.run("echo out; echo err >&2; exit 2", nil, 0)
    assert.is_false(ok)
    assert.equal("out\n", stdout)
    assert.equal("err\n", stderr)
    assert.equal("exit", reason)
    assert.equal(2, status)
    assert.same({ true, "x\n", "", "exit", 0 }, { shell.run({ "echo", "x" }) })
  end)
end)

describe("kong.tools.time", function()
  it("reads the clock in ms", function()
    local t = require "kong.tools.time"
    local now = t.get_updated_now_ms()
    assert.is_true(math.abs(now - ngx.now() * 1000) < 60000)
    assert.is_number(t.get_updated_monotonic_ms())
  end)
end)
