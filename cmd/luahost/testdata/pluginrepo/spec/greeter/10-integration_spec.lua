local helpers = require "spec.helpers"

for _, strategy in helpers.all_strategies() do
  describe("greeter: (proxy) [#" .. strategy .. "]", function()
    local client

    lazy_setup(function()
      local bp = helpers.get_db_utils(strategy == "off" and "postgres" or strategy, nil, { "greeter" })
      local route = bp.routes:insert({ hosts = { "greet.test" } })
      bp.plugins:insert({ name = "greeter", route = { id = route.id }, config = { greeting = "howdy" } })
      assert(helpers.start_kong({
        database = strategy,
        plugins = "bundled,greeter",
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

    it("greets the upstream", function()
      local r = client:get("/request", { headers = { host = "greet.test" } })
      assert.response(r).has.status(200)
      assert.equal("howdy", assert.request(r).has.header("x-greeting"))
    end)

    it("shouts when asked to", function()
      local r = client:get("/request", { headers = { host = "greet.test", ["x-shout"] = "1" } })
      assert.response(r).has.status(200)
      assert.equal("HOWDY!", assert.request(r).has.header("x-greeting"))
    end)

    it("greets the client", function()
      local r = client:get("/request", { headers = { host = "greet.test" } })
      assert.equal("howdy", assert.response(r).has.header("x-greeted"))
    end)
  end)
end
