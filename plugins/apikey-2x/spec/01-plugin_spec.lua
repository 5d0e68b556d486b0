-- apikey-2x, a Kong 1.x/2.x-style plugin: a BasePlugin handler, its map
-- daos.lua entity through kong.db with the cache_key the core invalidates,
-- and the 1.x/2.x migration form with a cassandra section.
describe("apikey-2x", function()
  local alice

  before_each(function()
    assert(kong.db.apikeys2:truncate())
    assert(kong.db.consumers:truncate())
    alice = assert(kong.db.consumers:insert({ username = "alice" }))
  end)

  it("its handler is a BasePlugin instance", function()
    local BasePlugin = require "kong.plugins.base_plugin"
    local handler = require "kong.plugins.apikey-2x.handler"
    assert.is_true(handler:is(BasePlugin))
    assert.equal(980, handler.PRIORITY)
  end)

  it("its migration keeps a cassandra section beside postgres", function()
    local m = require "kong.plugins.apikey-2x.migrations.000_base_apikeys2"
    assert.is_string(m.postgres.up)
    assert.is_string(m.cassandra.up)
  end)

  it("its entity is cached under its cache_key and invalidated on update and delete", function()
    local cred = assert(kong.db.apikeys2:insert({ consumer = { id = alice.id }, key = "z1" }))
    local ck = kong.db.apikeys2:cache_key("z1")
    local loads = 0
    local function load(key)
      loads = loads + 1
      return kong.db.apikeys2:select_by_key(key)
    end
    assert.equal(cred.id, kong.cache:get(ck, nil, load, "z1").id)
    assert.equal(cred.id, kong.cache:get(ck, nil, load, "z1").id)
    assert.equal(1, loads)
    assert(kong.db.apikeys2:update({ id = cred.id }, { key = "z2" }))
    assert.is_nil(kong.cache:get(ck, nil, load, "z1"))
    assert.equal(2, loads)
    local ck2 = kong.db.apikeys2:cache_key("z2")
    assert.equal(cred.id, kong.cache:get(ck2, nil, load, "z2").id)
    assert(kong.db.consumers:delete({ id = alice.id }))
    assert.is_nil(kong.cache:get(ck2, nil, load, "z2"))
  end)

  it("its rows are also reachable through the 0.x DAO", function()
    local dao = require("kong.singletons").dao
    local cred = assert(kong.db.apikeys2:insert({ consumer = { id = alice.id }, key = "z3" }))
    local rows = assert(dao.apikeys2:find_all({ consumer_id = alice.id }))
    assert.equal(1, #rows)
    assert.equal(cred.id, rows[1].id)
    assert.equal("z3", rows[1].key)
  end)
end)
