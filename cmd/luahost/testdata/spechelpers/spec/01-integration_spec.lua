-- written the way Kong's plugin template writes its integration spec
local helpers = require "spec.helpers"

local PLUGIN_NAME = "add-header"

for _, strategy in helpers.all_strategies() do
  describe(PLUGIN_NAME .. ": (access) [#" .. strategy .. "]", function()
    local client

    lazy_setup(function()
      local bp = helpers.get_db_utils(strategy == "off" and "postgres" or strategy, nil, { PLUGIN_NAME })

      local route1 = bp.routes:insert({
        hosts = { "test1.com" },
      })
      bp.plugins:insert {
        name = PLUGIN_NAME,
        route = { id = route1.id },
        config = {},
      }

      assert(helpers.start_kong({
        database   = strategy,
        nginx_conf = "spec/fixtures/custom_nginx.template",
        plugins    = "bundled," .. PLUGIN_NAME,
        declarative_config = strategy == "off" and helpers.make_yaml_file() or nil,
      }))
    end)

    lazy_teardown(function()
      helpers.stop_kong(nil, true)
    end)

    before_each(function()
      client = helpers.proxy_client()
    end)

    after_each(function()
      if client then client:close() end
    end)

    describe("request", function()
      it("gets a 'hello-world' header", function()
        local r = client:get("/request", {
          headers = {
            host = "test1.com"
          }
        })
        assert.response(r).has.status(200)
        local header_value = assert.request(r).has.header("hello-world")
        assert.equal("this is on a request", header_value)
      end)
    end)

    describe("response", function()
      it("gets a 'bye-world' header", function()
        local r = client:get("/request", {
          headers = {
            host = "test1.com"
          }
        })
        assert.response(r).has.status(200)
        local header_value = assert.response(r).has.header("bye-world")
        assert.equal("this is on the response", header_value)
      end)
    end)
  end)
end
