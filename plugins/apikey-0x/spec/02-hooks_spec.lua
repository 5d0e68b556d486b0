-- apikey-0x's hooks.lua and database_cache, written from seed 003: the
-- events of its 0.x entity carry 0.x rows (consumer_id), marshalled by its
-- marshall_event; deleting a consumer publishes ENTITY_DELETED for each of
-- its apikeys, as 0.x's DAO did for the rows its foreign key cascaded to.
local singletons = require "kong.singletons"
local cache = require "kong.tools.database_cache"

describe("apikey-0x: hooks.lua", function()
  local dao = singletons.dao
  local seen = {}
  local alice

  lazy_setup(function()
    for _, typ in ipairs({ "ENTITY_CREATED", "ENTITY_UPDATED", "ENTITY_DELETED" }) do
      singletons.events:subscribe(typ, function(m)
        if m.collection == "apikeys" then
          seen[#seen + 1] = m
        end
      end)
    end
  end)

  before_each(function()
    assert(kong.db.apikeys:truncate())
    assert(kong.db.consumers:truncate())
    alice = assert(kong.db.consumers:insert({ username = "alice" }))
    for i = #seen, 1, -1 do
      seen[i] = nil
    end
  end)

  it("ENTITY_CREATED carries the marshalled 0.x row", function()
    local row = assert(dao.apikeys:insert({ consumer_id = alice.id, apikey = "h1" }))
    assert.equal(1, #seen)
    assert.equal("ENTITY_CREATED", seen[1].type)
    assert.same({ "id" }, seen[1].primary_key)
    assert.same({ id = row.id, consumer_id = alice.id, apikey = "h1" }, seen[1].entity)
  end)

  it("ENTITY_UPDATED: old_entity marshalled, entity the 0.x row now; the cached key is dropped", function()
    local row = assert(dao.apikeys:insert({ consumer_id = alice.id, apikey = "h2" }))
    local got = cache.get_or_set("apikeys.h2", function() return row end)
    assert.equal(row.id, got.id)
    assert.is_table(cache.get("apikeys.h2"))
    assert(dao.apikeys:update({ apikey = "h2b" }, { id = row.id }))
    local m = seen[#seen]
    assert.equal("ENTITY_UPDATED", m.type)
    assert.same({ id = row.id, consumer_id = alice.id, apikey = "h2" }, m.old_entity)
    assert.equal("h2b", m.entity.apikey)
    assert.equal(alice.id, m.entity.consumer_id)
    assert.is_nil(cache.get("apikeys.h2"))
  end)

  it("ENTITY_DELETED drops the cached key", function()
    local row = assert(dao.apikeys:insert({ consumer_id = alice.id, apikey = "h3" }))
    assert.is_true(cache.set("apikeys.h3", row))
    assert(dao.apikeys:delete({ id = row.id }))
    assert.equal("ENTITY_DELETED", seen[#seen].type)
    assert.same({ id = row.id, consumer_id = alice.id, apikey = "h3" }, seen[#seen].entity)
    assert.is_nil(cache.get("apikeys.h3"))
  end)

  it("deleting a consumer publishes ENTITY_DELETED for each of its apikeys", function()
    local bob = assert(kong.db.consumers:insert({ username = "bob" }))
    local a = assert(dao.apikeys:insert({ consumer_id = alice.id, apikey = "c1" }))
    local b = assert(dao.apikeys:insert({ consumer_id = alice.id, apikey = "c2" }))
    assert(dao.apikeys:insert({ consumer_id = bob.id, apikey = "c3" }))
    assert.is_true(cache.set("apikeys.c1", a))
    assert.is_true(cache.set("apikeys.c2", b))
    for i = #seen, 1, -1 do
      seen[i] = nil
    end
    assert(dao.consumers:delete({ id = alice.id }))
    local deleted = {}
    for _, m in ipairs(seen) do
      assert.equal("ENTITY_DELETED", m.type)
      deleted[m.entity.apikey] = m.entity.consumer_id
    end
    assert.same({ c1 = alice.id, c2 = alice.id }, deleted)
    assert.is_nil(cache.get("apikeys.c1"))
    assert.is_nil(cache.get("apikeys.c2"))
  end)
end)
