local helpers = require "spec.helpers"

-- Kong's allow_debug_header (spec/02-integration/05-proxy/02-router_spec.lua
-- checks it the same way)
for _, allow in ipairs({ true, false }) do
  describe("allow_debug_header = " .. tostring(allow) .. " [#off]", function()
    local named, unnamed

    lazy_setup(function()
      local bp = helpers.get_db_utils("off")
      named = bp.routes:insert({ name = "named-route", hosts = { "named.test" },
        service = bp.services:insert({ name = "named-service", host = helpers.mock_upstream_host,
                                       port = helpers.mock_upstream_port }) })
      unnamed = bp.routes:insert({ hosts = { "unnamed.test" },
        service = bp.services:insert({ host = helpers.mock_upstream_host, port = helpers.mock_upstream_port }) })
      assert(helpers.start_kong({ database = "off", allow_debug_header = allow }))
    end)
    lazy_teardown(function() helpers.stop_kong() end)

    local function get(host, debug)
      local client = helpers.proxy_client()
      local res = client:get("/request", { headers = { host = host, ["kong-debug"] = debug } })
      assert.res_status(200, res)
      client:close()
      return res.headers
    end

    it("names the Route and the Service of a request with Kong-Debug", function()
      local h = get("named.test", 1)
      if allow then
        assert.equal(named.id, h["kong-route-id"])
        assert.equal("named-route", h["kong-route-name"])
        assert.equal(named.service.id, h["kong-service-id"])
        assert.equal("named-service", h["kong-service-name"])
      else
        assert.is_nil(h["kong-route-id"])
        assert.is_nil(h["kong-service-name"])
      end
    end)

    it("gives the ids only of an unnamed Route and Service", function()
      local h = get("unnamed.test", 1)
      assert.is_nil(h["kong-route-name"])
      assert.is_nil(h["kong-service-name"])
      if allow then
        assert.equal(unnamed.id, h["kong-route-id"])
        assert.equal(unnamed.service.id, h["kong-service-id"])
      else
        assert.is_nil(h["kong-route-id"])
      end
    end)

    it("adds nothing without Kong-Debug", function()
      local h = get("named.test")
      assert.is_nil(h["kong-route-id"])
      assert.is_nil(h["kong-service-id"])
    end)
  end)
end
