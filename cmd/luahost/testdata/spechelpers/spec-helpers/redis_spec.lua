-- resty.redis at helpers.redis_host:redis_port (the Go test makes sure a
-- server answers there)
local helpers = require "spec.helpers"
local redis = require "resty.redis"

describe("redis at helpers.redis_host", function()
  it("set and get", function()
    local red = redis:new()
    red:set_timeout(5000)
    assert(red:connect(helpers.redis_host, helpers.redis_port))
    local key = "luahost-spec-helpers-" .. ngx.now() .. "-" .. math.random(1e9)
    assert(red:set(key, "v"))
    assert.equal("v", red:get(key))
    assert(red:del(key))
    red:close()
  end)
end)
