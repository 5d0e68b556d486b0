-- kong.log.serialize's route, service and workspace as Kong's router
-- leaves them in ngx.ctx: the entities read in every workspace with their
-- ws_id (Kong's GLOBAL_QUERY_OPTS), ngx.ctx.workspace the route's ws_id
local helpers = require "spec.helpers"
local cjson = require "cjson"

for _, strategy in helpers.each_strategy() do
  describe("kong.log.serialize workspace fields [#" .. strategy .. "]", function()
    local proxy

    lazy_setup(function()
      local bp = helpers.get_db_utils(strategy, { "routes", "services", "plugins" }, { "post-log" })
      local service = bp.services:insert({ host = helpers.mock_upstream_host, port = helpers.mock_upstream_port })
      local route = bp.routes:insert({ hosts = { "ws.test" }, service = service })
      bp.plugins:insert({ name = "post-log", route = { id = route.id },
        config = { http_endpoint = helpers.mock_upstream_url .. "/post_log/wslog", serialize = true } })
      assert(helpers.start_kong({ database = strategy, plugins = "bundled,post-log" }))
      proxy = helpers.proxy_client()
    end)

    lazy_teardown(function()
      if proxy then proxy:close() end
      helpers.stop_kong()
    end)

    it("has the route's ws_id as workspace, on the route and the service", function()
      local c = helpers.http_client(helpers.mock_upstream_host, helpers.mock_upstream_port)
      assert.res_status(200, c:get("/reset_log/wslog"))
      c:close()
      assert.res_status(200, proxy:get("/status/200", { headers = { host = "ws.test" } }))
      local entry
      helpers.wait_until(function()
        local c = assert(helpers.http_client(helpers.mock_upstream_host, helpers.mock_upstream_port))
        local json = cjson.decode(assert.res_status(200, c:get("/read_log/wslog")))
        c:close()
        entry = json.entries and json.entries[1]
        return entry ~= nil
      end, 10)

      assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", entry.workspace)
      assert.equal(entry.workspace, entry.route.ws_id)
      assert.equal(entry.workspace, entry.service.ws_id)
      assert.equal("default", entry.workspace_name)
    end)
  end)
end
