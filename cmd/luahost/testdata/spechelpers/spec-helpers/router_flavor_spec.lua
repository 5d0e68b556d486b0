local helpers = require "spec.helpers"

-- Kong's traditional router honours a route's path_handling v1 (the
-- Service's path and the request's concatenated as they are); the
-- traditional_compatible one (luahost's default) answers as v0.
for _, case in ipairs({
  { flavor = "traditional", want = "/serviceroute" },
  { flavor = "traditional_compatible", want = "/service/route" },
}) do
  describe("router_flavor = " .. case.flavor .. " [#postgres]", function()
    lazy_setup(function()
      local bp = helpers.get_db_utils("postgres", nil, { "add-header" })
      local service = bp.services:insert({ path = "/service" })
      bp.routes:insert({ hosts = { "v1.test" }, paths = { "/" }, strip_path = false,
                         path_handling = "v1", service = service })
      assert(helpers.start_kong({ database = "postgres", router_flavor = case.flavor }))
    end)
    lazy_teardown(function()
      helpers.stop_kong()
    end)
    it("sends path_handling v1 routes' requests upstream as Kong's", function()
      local client = helpers.proxy_client()
      local res = client:get("/route", { headers = { Host = "v1.test" } })
      local json = assert.response(res).has.jsonbody()
      assert.equal(case.want, json.vars.request_uri)
    end)
  end)
end
