-- spec.fixtures.blueprints required directly, over get_db_utils' db
local helpers = require "spec.helpers"
local blueprints = require "spec.fixtures.blueprints"

for _, strategy in helpers.all_strategies() do
  describe("spec.fixtures.blueprints [#" .. strategy .. "]", function()
    local bp, db, route, consumer, key

    lazy_setup(function()
      local get_db_utils_bp
      get_db_utils_bp, db = helpers.get_db_utils(strategy == "off" and "postgres" or strategy, nil, { "label-key" })
      bp = blueprints.new(db)
      -- get_db_utils' bp is built by the same module
      assert.equal(getmetatable(get_db_utils_bp.services), getmetatable(bp.services))
    end)

    lazy_teardown(function()
      helpers.stop_kong()
    end)

    it("runs the schema's Lua functions (a custom_validator) in a node's worker", function()
      local ok, err = pcall(bp.plugins.insert, bp.plugins, { name = "add-header", config = { label = "refused" } })
      assert.is_false(ok)
      assert.matches("refused by add-header's validator", tostring(err), nil, true)
      local p = bp.plugins:insert { name = "add-header", config = { label = "taken" } }
      assert.equal("taken", p.config.label)
      db.plugins:delete({ id = p.id })
    end)

    it("inserts with Kong's defaults and sequences", function()
      local service = bp.services:insert()
      assert.equal(helpers.mock_upstream_port, service.port)
      assert.equal("http", service.protocol)
      route = bp.routes:insert({ hosts = { "blueprints.test" } })
      assert.is_table(db.services:select({ id = route.service.id }))
      -- no protocols given: the schema's, as Kong's blueprint leaves them
      assert.same({ "http", "https" }, route.protocols)
      local named = bp.named_routes:insert()
      assert.matches("^route%-name%-%d+$", named.name)
      local consumers = bp.consumers:insert_n(2)
      assert.equal(2, #consumers)
      assert.not_equal(consumers[1].username, consumers[2].username)
      assert.matches("^consumer%-username%-%d+$", consumers[1].username)
      consumer = consumers[1]
      bp.plugins:insert({ name = "label-key", route = route })
      -- a plugin's own entity: a blueprint with no defaults
      key = bp.label_keys:insert({ key = "bk", label = "one", consumer = consumer })
      assert.equal(consumer.id, key.consumer.id)
    end)

    it("gives an sni a certificate of spec.fixtures.ssl", function()
      local sni = bp.snis:insert()
      assert.matches("^server%-name%-%d+$", sni.name)
      local cert = db.certificates:select({ id = sni.certificate.id })
      assert.equal(require("spec.fixtures.ssl").cert, cert.cert)
    end)

    it("updates", function()
      local updated = bp.label_keys:update({ id = key.id }, { label = "two" })
      assert.equal("two", updated.label)
      assert.equal("two", db.label_keys:select({ id = key.id }).label)
    end)

    it("raises a DAO's error at the caller's line", function()
      local ok, err = pcall(function()
        bp.services:insert({ port = "not a port" })
      end)
      assert.is_false(ok)
      assert.matches("blueprints_spec.lua:%d+: .*port", err)
    end)

    it("serves what it wrote", function()
      assert(helpers.start_kong({
        database = strategy,
        plugins = "bundled,label-key",
        declarative_config = strategy == "off" and helpers.make_yaml_file() or nil,
      }))
      local proxy = helpers.proxy_client()
      local res = proxy:get("/request", { headers = { host = "blueprints.test", ["x-label-key"] = "bk" } })
      assert.res_status(200, res)
      assert.equal("two", assert.request(res).has.header("x-key-label"))
      proxy:close()
      -- and over TLS: a blueprint's route takes https too, as in Kong
      local tls = helpers.proxy_ssl_client()
      res = tls:get("/request", { headers = { host = "blueprints.test", ["x-label-key"] = "bk" } })
      assert.res_status(200, res)
      tls:close()
    end)

    it("removes and truncates", function()
      assert.is_true(bp.label_keys:remove(key))
      assert.is_nil(db.label_keys:select({ id = key.id }))
      assert.is_true(bp.consumers:truncate())
      assert.is_nil(db.consumers:select({ id = consumer.id }))
    end)
  end)
end
