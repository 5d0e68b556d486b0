-- spec.fixtures.admin_api: blueprints writing through the running node's
-- Admin API; required before get_db_utils, as Kong's plugin specs do
local helpers = require "spec.helpers"
local admin_api = require "spec.fixtures.admin_api"
local cjson = require "cjson"

-- luahost's off is its embedded store, whose Admin API takes writes
for _, strategy in helpers.all_strategies() do
  describe("spec.fixtures.admin_api [#" .. strategy .. "]", function()
    local proxy, service, route, consumer, plugin, key

    lazy_setup(function()
      helpers.get_db_utils(strategy, nil, { "label-key" })
      assert(helpers.start_kong({ database = strategy, plugins = "bundled,label-key" }))
    end)

    lazy_teardown(function()
      helpers.stop_kong()
    end)

    before_each(function()
      proxy = helpers.proxy_client()
    end)

    after_each(function()
      if proxy then proxy:close() end
    end)

    local function admin_get(path)
      local admin = helpers.admin_client()
      local res = admin:get(path)
      local body = assert.res_status(200, res)
      admin:close()
      return cjson.decode(body)
    end

    -- Kong's specs wait for the node's router and plugins after writes
    local function label(host, k)
      helpers.wait_for_all_config_update()
      local res = proxy:get("/request", { headers = { host = host, ["x-label-key"] = k } })
      if res.status ~= 200 then
        return res.status
      end
      return assert.request(res).has.header("x-key-label")
    end

    -- as Kong's, built from the node's DAOs: a name that is no entity is
    -- nil (Kong's router spec tells the declarative blueprints, which
    -- have done, from these by it)
    it("has no DAO for a name that is no entity", function()
      assert.is_nil(admin_api.done)
      assert.is_nil(admin_api.no_such_entities)
      assert.is_table(admin_api.services)
    end)

    it("inserts a service, route, consumer, plugin and the plugin's own entity", function()
      service = admin_api.services:insert()
      assert.equal(helpers.mock_upstream_port, service.port)
      route = admin_api.routes:insert({ hosts = { "admin-api.test" }, service = service })
      assert.equal(service.id, route.service.id)
      consumer = admin_api.consumers:insert({ username = "alice" })
      assert.equal("alice", consumer.username)
      assert.matches("^consumer%-id%-%d+$", consumer.custom_id)
      plugin = admin_api.plugins:insert({ name = "label-key", route = route })
      assert.equal(route.id, plugin.route.id)
      key = admin_api.label_keys:insert({ key = "k1", label = "first", consumer = consumer })
      assert.equal(consumer.id, key.consumer.id)
      -- through the Admin API: the plugin's entity under its admin_api_name
      assert.equal("first", admin_get("/label-keys/" .. key.id).label)
      assert.equal("first", label("admin-api.test", "k1"))
      assert.equal(401, label("admin-api.test", "nope"))
    end)

    it("updates, the proxy seeing the new values", function()
      local updated = admin_api.label_keys:update(key.id, { label = "second" })
      assert.equal("second", updated.label)
      assert.equal("second", label("admin-api.test", "k1"))
      route = admin_api.routes:update(route.id, { hosts = { "renamed.test" } })
      assert.same({ "renamed.test" }, route.hosts)
      assert.equal("second", label("renamed.test", "k1"))
      assert.equal(404, label("admin-api.test", "k1"))
    end)

    it("removes: nil for the Admin API's 204", function()
      assert.is_nil(admin_api.plugins:remove(plugin))
      helpers.wait_for_all_config_update()
      local res = proxy:get("/request", { headers = { host = "renamed.test" } })
      assert.res_status(200, res)
      assert.is_nil(admin_api.label_keys:remove(key))
      assert.same({}, admin_get("/label-keys").data)
    end)

    it("truncates, page after page", function()
      admin_api.consumers:insert_n(3)
      admin_api.label_keys:insert({ key = "k2", consumer = admin_api.consumers:insert() })
      assert.is_true(admin_api.consumers:truncate())
      assert.same({}, admin_get("/consumers").data)
      assert.same({}, admin_get("/label-keys").data)
      assert.is_true(admin_api.routes:truncate())
      helpers.wait_for_all_config_update()
      local res = proxy:get("/request", { headers = { host = "renamed.test" } })
      assert.res_status(404, res)
    end)

    it("writes targets under their upstream", function()
      local upstream = admin_api.upstreams:insert()
      assert.matches("^upstream%-%d+$", upstream.name)
      local target = admin_api.targets:insert({
        upstream = upstream,
        target = "127.0.0.1:" .. helpers.mock_upstream_port,
      })
      assert.equal(upstream.id, target.upstream.id)
      assert.equal(10, target.weight)
      local listed = admin_get("/upstreams/" .. upstream.id .. "/targets").data
      assert.equal(1, #listed)
      assert.equal(target.id, listed[1].id)
      local svc = admin_api.services:insert({ host = upstream.name, port = 80 })
      admin_api.routes:insert({ hosts = { "balanced.test" }, service = svc })
      helpers.wait_for_all_config_update()
      local res = proxy:get("/request", { headers = { host = "balanced.test" } })
      assert.res_status(200, res)
      assert.is_nil(admin_api.targets:remove(target))
      assert.same({}, admin_get("/upstreams/" .. upstream.id .. "/targets").data)
    end)

    it("answers nil and Error <status>: <body> on a bad insert, which the blueprint raises", function()
      local res, err = admin_api.services.dao:insert({ host = "x.test", port = "not a port" })
      assert.is_nil(res)
      assert.matches("^Error 400: ", err)
      local body = cjson.decode(err:sub(#"Error 400: " + 1))
      assert.equal("schema violation", body.name)
      assert.is_string(body.fields.port)
      local ok, raised = pcall(function()
        admin_api.consumers:insert({ username = 42, custom_id = false })
      end)
      assert.is_false(ok)
      assert.matches("admin_api_spec.lua:%d+: Error 400: ", raised)
    end)

    it("has Kong's named blueprints", function()
      assert.equal("key-auth", admin_api.key_auth_plugins:build().name)
      local cors = admin_api.cors_plugins:build({ config = { max_age = 5 } }).config
      assert.equal(5, cors.max_age)
      assert.same({ "example.com" }, cors.origins)
    end)
  end)
end

