-- Custom DAO modules (KONG-REFERENCE §2.2): schema.dao names a module whose
-- functions are copied onto the DAO object; self.super reaches the
-- defaults; a post_crud_event override runs on every write.
-- dbfix_groups uses kong.plugins.dao-fixtures.groups_dao.
describe("custom DAO module", function()
  local db = kong.db
  local groups = db.dbfix_groups
  local bob

  before_each(function()
    assert(groups:truncate())
    assert(db.consumers:truncate())
    bob = assert(db.consumers:insert({ username = "bob" }))
    rawset(_G, "dbfix_events", nil)
  end)

  it("copies the module's functions onto the DAO", function()
    assert.is_function(rawget(groups, "insert_group"))
    assert.is_function(rawget(groups, "post_crud_event"))
    assert.is_nil(rawget(groups, "insert")) -- the defaults stay in super
  end)

  it("reaches the default methods through self.super", function()
    local g, err = groups:insert_group(bob.id, "admins")
    assert.is_nil(err)
    assert.equal("admins", g.group)
    assert.same({ id = bob.id }, g.consumer)
  end)

  it("calls the post_crud_event override on insert, update, upsert and delete", function()
    local g = assert(groups:insert({ consumer = { id = bob.id }, group = "a" }))
    assert(groups:update({ id = g.id }, { group = "b" }))
    assert(groups:upsert({ id = g.id }, { consumer = { id = bob.id }, group = "c" }))
    assert(groups:delete({ id = g.id }))
    assert.same({ "create:a", "update:b", "update:c", "delete:c" }, rawget(_G, "dbfix_events"))
  end)

  it("passes the options, no_broadcast_crud_event included", function()
    assert(groups:insert({ consumer = { id = bob.id }, group = "q" }, { no_broadcast_crud_event = true }))
    assert.same({ "create:q (quiet)" }, rawget(_G, "dbfix_events"))
  end)

  it("reports cascaded deletes to the child's override", function()
    assert(groups:insert({ consumer = { id = bob.id }, group = "child" }))
    rawset(_G, "dbfix_events", nil)
    assert(db.consumers:delete({ id = bob.id }))
    assert.same({ "delete:child" }, rawget(_G, "dbfix_events"))
  end)

  it("an override assigned at run time is used too, and its errors reach the caller", function()
    local saved = rawget(groups, "post_crud_event")
    groups.post_crud_event = function() error("override failed") end
    local ok, err = pcall(groups.insert, groups, { consumer = { id = bob.id }, group = "x" })
    groups.post_crud_event = saved
    assert.is_false(ok)
    assert.matches("override failed", tostring(err), 1, true)
  end)

  it("composite cache keys: the table form and select_by_cache_key", function()
    local g = assert(groups:insert({ consumer = { id = bob.id }, group = "ops" }))
    local key = groups:cache_key(g)
    assert.equal(1, (key:find("dbfix_groups:" .. bob.id .. ":ops::::", 1, true)))
    local found = assert(groups:select_by_consumer_group(bob.id, "ops"))
    assert.equal(g.id, found.id)
    assert.equal(g.id, assert(groups:select_by_cache_key(key)).id)
  end)

  it("reaches the storage through self.strategy", function()
    assert(groups:insert_group(bob.id, "one"))
    assert(groups:insert_group(bob.id, "two"))
    assert.equal(2, groups:count_stored())
  end)

  it("keeps a ttl and reports the remaining seconds", function()
    local g = assert(groups:insert({ consumer = { id = bob.id }, group = "t" }, { ttl = 100 }))
    local found = assert(groups:select({ id = g.id }))
    assert.truthy(found.ttl <= 100 and found.ttl > 0) -- remaining seconds, not a timing bound
    local _, err = groups:insert({ consumer = { id = bob.id }, group = "u" }, { ttl = -1 })
    assert.equal("[" .. db.strategy .. "] invalid option (ttl: must be an integer between 0 and 100000000)", err)
  end)

  it("runs a Lua validator that itself calls kong.db, in the same worker", function()
    local g, err, err_t = groups:insert({ consumer = { id = bob.id }, group = "needs-key" })
    assert.is_nil(g)
    assert.equal("[" .. db.strategy .. "] schema violation (group: requires the key 'required-key')", err)
    assert.equal(db.errors.codes.SCHEMA_VIOLATION, err_t.code)
    assert(db.keyauth_credentials:insert({ key = "required-key" }))
    assert(groups:insert({ consumer = { id = bob.id }, group = "needs-key" }))
    assert(db.keyauth_credentials:delete_by_key("required-key"))
  end)
end)
