local handler = require "kong.plugins.greeter.handler"

describe("greeter: (unit)", function()
  local set = {}

  setup(function()
    _G.kong = {
      request = { get_header = function() return nil end },
      service = { request = { set_header = function(k, v) set["upstream " .. k] = v end } },
      response = { set_header = function(k, v) set["client " .. k] = v end },
    }
  end)

  teardown(function()
    _G.kong = nil
  end)

  it("greets the upstream", function()
    handler:access({ greeting = "hi", upstream_header = "X-G" })
    assert.equal("hi", set["upstream X-G"])
  end)

  it("greets the client", function()
    handler:header_filter({ greeting = "hi", client_header = "X-C" })
    assert.equal("hi", set["client X-C"])
  end)
end)
