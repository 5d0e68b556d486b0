-- hooks.lua and kong.core.events (Kong <= 0.10, KONG-REFERENCE §9.4, seed
-- 003): the DAO's writes reach a plugin's hooks per TYPE as message_t, the
-- entity built by the schema's marshall_event ({} without one).
describe("kong.core.events", function()
  local Events = require "kong.core.events"

  it("has 0.x's TYPES", function()
    for _, t in ipairs({ "CLUSTER_PROPAGATE", "ENTITY_CREATED", "ENTITY_UPDATED", "ENTITY_DELETED",
                         "MEMBER-JOIN", "MEMBER-LEAVE", "MEMBER-FAILED", "MEMBER-UPDATE", "MEMBER-REAP" }) do
      assert.equal(t, Events.TYPES[t])
    end
  end)

  it("publishes to subscribers in order, upper-casing the name; an error does not stop the others", function()
    local e = Events()
    local got = {}
    e:subscribe("ENTITY_CREATED", function(m) got[#got + 1] = "a:" .. m.x end)
    e:subscribe("ENTITY_CREATED", function() error("boom") end)
    e:subscribe("ENTITY_CREATED", function(m) got[#got + 1] = "b:" .. m.x end)
    e:subscribe("ENTITY_CREATED", nil)
    e:publish("entity_created", { x = 1 })
    e:publish("ENTITY_DELETED", { x = 2 })
    e:publish(nil, { x = 3 })
    assert.same({ "a:1", "b:1" }, got)
  end)
end)

describe("hooks.lua", function()
  if not (kong.db and kong.db.lapikeys) then
    pending("the legacy-apikeys fixture is not enabled")
    return
  end
  local hooks = require "kong.plugins.legacy-apikeys.hooks"
  local cache = require "kong.tools.database_cache"
  local singletons = require "kong.singletons"

  before_each(function()
    for i = #hooks.seen, 1, -1 do
      hooks.seen[i] = nil
    end
  end)

  it("kong.singletons.events is the Events the hooks subscribed to", function()
    assert.is_table(singletons.events)
    assert.is_function(singletons.events.publish)
  end)

  it("ENTITY_CREATED carries the marshalled entity", function()
    local row = assert(kong.db.lapikeys:insert({ apikey = "c-" .. ngx.now(), note = "n" }))
    assert.equal(2, #hooks.seen)
    assert.same({ propagate = { collection = "lapikeys", primary_key = { "id" }, type = "ENTITY_CREATED",
                                entity = { id = row.id, apikey = row.apikey } } }, hooks.seen[1])
    local m = hooks.seen[2]
    assert.equal("lapikeys", m.collection)
    assert.equal("ENTITY_CREATED", m.type)
    assert.same({ "id" }, m.primary_key)
    assert.same({ id = row.id, apikey = row.apikey }, m.entity)
    assert.is_nil(m.old_entity)
  end)

  it("ENTITY_UPDATED: old_entity marshalled from the old row, entity the row now; the hook invalidates", function()
    local key = "u-" .. ngx.now()
    local row = assert(kong.db.lapikeys:insert({ apikey = key, note = "before" }))
    -- seed 003's handler caches the credential under "apikeys.<key>"
    assert.equal("before", cache.get_or_set("apikeys." .. key, nil, function() return row end).note)
    assert.is_table(cache.get("apikeys." .. key))
    assert(kong.db.lapikeys:update({ id = row.id }, { apikey = key .. "-2", note = "after" }))
    local m = hooks.seen[#hooks.seen]
    assert.equal("ENTITY_UPDATED", m.type)
    assert.same({ id = row.id, apikey = key }, m.old_entity)
    assert.equal(key .. "-2", m.entity.apikey)
    assert.equal("after", m.entity.note)
    assert.is_nil(cache.get("apikeys." .. key))
  end)

  it("ENTITY_DELETED carries the marshalled row; the hook invalidates", function()
    local key = "d-" .. ngx.now()
    local row = assert(kong.db.lapikeys:insert({ apikey = key }))
    assert.is_true(cache.set("apikeys." .. key, { id = row.id }))
    assert(kong.db.lapikeys:delete({ id = row.id }))
    local m = hooks.seen[#hooks.seen]
    assert.equal("ENTITY_DELETED", m.type)
    assert.same({ id = row.id, apikey = key }, m.entity)
    assert.is_nil(cache.get("apikeys." .. key))
  end)

  it("a schema without marshall_event sends no field", function()
    assert(kong.db.lapikeys_plain:insert({ apikey = "p" }))
    local m = hooks.seen[#hooks.seen]
    assert.equal("lapikeys_plain", m.collection)
    assert.same({}, m.entity)
  end)

  it("message() warns over 512 bytes and delivers all the same", function()
    local legacy = require "luahost.legacy_hooks"
    local logged = {}
    local log = ngx.log
    ngx.log = function(lvl, ...) logged[#logged + 1] = { lvl, table.concat({ ... }) } end
    local schemas = { big = { plugin = "legacy-apikeys", schema = {
      marshall_event = function(_, t) return t end } } }
    local ok, m = pcall(legacy.message, { operation = "create", schema = { name = "big", primary_key = { "id" } },
                                          entity = { id = "1", blob = string.rep("x", 600) } }, schemas)
    local m2 = legacy.message({ operation = "create", schema = { name = "big", primary_key = { "id" } },
                                entity = { id = "2", blob = "small" } }, schemas)
    ngx.log = log
    assert.is_true(ok, m)
    assert.equal(600, #m.entity.blob)
    assert.equal("small", m2.entity.blob)
    assert.equal(1, #logged)
    assert.equal(ngx.WARN, logged[1][1])
    assert.truthy(logged[1][2]:find("[legacy-apikeys]", 1, true), logged[1][2])
    assert.truthy(logged[1][2]:find("'big'", 1, true), logged[1][2])
  end)
end)
