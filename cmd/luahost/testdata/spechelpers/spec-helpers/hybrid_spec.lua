-- spec.hybrid as Kong 3.9's own plugin specs use it: the body runs once
-- per strategy in the traditional deployment with patched helpers; the
-- hybrid deployments Kong would run are pending, never passed
local hybrid_helper = require "spec.hybrid"

local ran = {}

hybrid_helper.run_for_each_deploy({}, function(helpers, strategy, deploy, rpc, rpc_sync)
  ran[#ran + 1] = strategy .. "/" .. deploy .. "/" .. rpc .. "/" .. rpc_sync

  describe("add-header [" .. helpers.format_tags() .. "]", function()
    local client

    lazy_setup(function()
      local bp = helpers.get_db_utils(strategy, { "routes", "services", "plugins" }, { "add-header" })
      local route = bp.routes:insert { hosts = { "hybrid.test" } }
      bp.plugins:insert { name = "add-header", route = { id = route.id } }
      assert(helpers.start_kong({ database = strategy, plugins = "bundled,add-header" }))
    end)

    lazy_teardown(function()
      helpers.stop_kong()
    end)

    it("runs on a traditional node, with its running conf", function()
      assert.equal("traditional", deploy)
      assert.equal("#" .. strategy .. " #traditional", helpers.format_tags())
      assert.is_table(helpers.data_plane)
      assert.is_nil(helpers.control_plane)
      client = helpers.proxy_client()
      local res = client:get("/request", { headers = { host = "hybrid.test" } })
      assert.res_status(200, res)
      client:close()
    end)

    it("reload_helpers patches again", function()
      assert.equal(helpers.format_tags(), helpers.reload_helpers().format_tags())
      assert.is_function(helpers.get_prefix_for)
      helpers.wait_for_all_config_update()
    end)
  end)
end)

describe("run_for_each_deploy", function()
  it("ran the body once per strategy, traditional only", function()
    assert.same({ "postgres/traditional/off/off" }, ran)
  end)
end)
