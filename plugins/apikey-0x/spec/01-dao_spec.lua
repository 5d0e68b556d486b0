-- apikey-0x's entity through Kong 0.x's DAO (kong.singletons.dao), with
-- 0.x's calls, returns and errors (KONG-REFERENCE §9.2), on every store.
local singletons = require "kong.singletons"
local Errors = require "kong.dao.errors"

local UUID = "^%x+%-%x+%-%x+%-%x+%-%x+$"

describe("apikey-0x: the 0.x DAO", function()
  local dao = singletons.dao
  local alice, bob

  before_each(function()
    assert(kong.db.apikeys:truncate())
    assert(kong.db.consumers:truncate())
    alice = assert(kong.db.consumers:insert({ username = "alice" }))
    bob = assert(kong.db.consumers:insert({ username = "bob" }))
  end)

  it("is the same factory as self.dao, the dao global and dao_factory", function()
    local BasePlugin = require "kong.plugins.base_plugin"
    assert.equal(dao, BasePlugin.dao)
    assert.equal(dao, rawget(_G, "dao"))
    assert.equal(dao.apikeys, dao.apikeys)
    assert.equal("apikeys", dao.apikeys.table)
    assert.is_nil(dao.no_such_entity)
  end)

  it("insert returns the 0.x row: generated id, created_at in ms, consumer_id", function()
    local before = ngx.now() * 1000
    local row, err = dao.apikeys:insert({ consumer_id = alice.id, apikey = "k1" })
    assert.is_nil(err)
    assert.matches(UUID, row.id)
    assert.equal(alice.id, row.consumer_id)
    assert.is_nil(row.consumer)
    assert.equal("k1", row.apikey)
    assert.is_number(row.created_at)
    assert.is_true(row.created_at >= math.floor(before / 1000) * 1000 - 1000)
    assert.equal(0, row.created_at % 1000)
    -- the same row through kong.db, in Kong 3's form
    local e = assert(kong.db.apikeys:select({ id = row.id }))
    assert.same({ id = alice.id }, e.consumer)
    assert.equal(row.created_at / 1000, e.created_at)
  end)

  it("insert: unique, foreign and schema errors are kong.dao.errors objects", function()
    assert(dao.apikeys:insert({ consumer_id = alice.id, apikey = "dup" }))
    local row, err = dao.apikeys:insert({ consumer_id = bob.id, apikey = "dup" })
    assert.is_nil(row)
    assert.is_true(Errors.is_error(err))
    assert.is_true(err.unique)
    assert.same({ apikey = "already exists with value 'dup'" }, err.tbl)
    assert.equal("apikey=already exists with value 'dup'", err.message)
    local db_name = kong.db.strategy == "postgres" and "postgres" or "off"
    assert.equal("[" .. db_name .. " error] apikey=already exists with value 'dup'", tostring(err))
    assert.equal("x: [" .. db_name .. " error] " .. err.message, "x: " .. err)

    local missing = "00000000-0000-4000-8000-000000000000"
    row, err = dao.apikeys:insert({ consumer_id = missing, apikey = "f" })
    assert.is_nil(row)
    assert.is_true(err.foreign)
    assert.same({ consumer_id = "does not exist with value '" .. missing .. "'" }, err.tbl)

    row, err = dao.apikeys:insert({ apikey = "no-consumer" })
    assert.is_nil(row)
    assert.is_true(err.schema)
    assert.same({ consumer_id = "consumer_id is required" }, err.tbl)

    row, err = dao.apikeys:insert({ consumer_id = alice.id, apikey = "bad key!" })
    assert.is_nil(row)
    assert.is_true(err.schema)
    assert.same({ apikey = "apikey has an invalid value" }, err.tbl)

    row, err = dao.apikeys:insert({ consumer_id = alice.id, apikey = string.rep("k", 65) })
    assert.is_nil(row)
    assert.is_true(err.schema)
    assert.equal("apikey must be at most 64 characters", err.message)
    assert.equal("[" .. db_name .. " error] apikey must be at most 64 characters", tostring(err))

    row, err = dao.apikeys:insert({ consumer_id = alice.id, apikey = "x", nope = 1 })
    assert.is_nil(row)
    assert.same({ nope = "nope is an unknown field" }, err.tbl)

    assert.has_error(function() dao.apikeys:insert("x") end,
                     "bad argument #1 to 'insert' (table expected, got string)")
  end)

  it("find by primary key: the row, nil when absent, a schema error for a bad id", function()
    local row = assert(dao.apikeys:insert({ consumer_id = alice.id, apikey = "f1" }))
    local found, err = dao.apikeys:find({ id = row.id })
    assert.is_nil(err)
    assert.same(row, found)
    found, err = dao.apikeys:find({ id = "00000000-0000-4000-8000-000000000000" })
    assert.is_nil(found)
    assert.is_nil(err)
    found, err = dao.apikeys:find({ id = "nope" })
    assert.is_nil(found)
    assert.same({ id = "nope is not a valid uuid" }, err.tbl)
    assert.has_error(function() dao.apikeys:find({ apikey = "f1" }) end, "Missing PRIMARY KEY field")
  end)

  it("find_all and find_by_keys filter on any field; unknown fields are schema errors", function()
    local a1 = assert(dao.apikeys:insert({ consumer_id = alice.id, apikey = "a1" }))
    assert(dao.apikeys:insert({ consumer_id = alice.id, apikey = "a2" }))
    assert(dao.apikeys:insert({ consumer_id = bob.id, apikey = "b1" }))

    local rows, err = dao.apikeys:find_all()
    assert.is_nil(err)
    assert.equal(3, #rows)
    rows = assert(dao.apikeys:find_all({ consumer_id = alice.id }))
    assert.equal(2, #rows)
    rows = assert(dao.apikeys:find_all({ consumer_id = alice.id, apikey = "b1" }))
    assert.equal(0, #rows)
    rows = assert(dao.apikeys:find_all({ id = a1.id }))
    assert.same({ a1 }, rows)

    local filtering
    rows, err, filtering = dao.apikeys:find_by_keys({ apikey = "a1" })
    assert.is_nil(err)
    assert.is_false(filtering)
    assert.same({ a1 }, rows)
    rows = assert(dao.apikeys:find_by_keys({ apikey = "none" }))
    assert.same({}, rows)

    rows, err = dao.apikeys:find_all({ color = "red" })
    assert.is_nil(rows)
    assert.is_true(err.schema)
    assert.same({ color = "unknown field" }, err.tbl)
    rows, err = dao.apikeys:find_all({ consumer_id = "nope" })
    assert.same({ consumer_id = "nope is not a valid uuid" }, err.tbl)
    assert.has_error(function() dao.apikeys:find_all({}) end,
                     "bad argument #1 to 'find_all' (expected table to not be empty)")
  end)

  it("find_page returns rows, err, next_offset; count counts", function()
    for i = 1, 5 do
      assert(dao.apikeys:insert({ consumer_id = i <= 3 and alice.id or bob.id, apikey = "p" .. i }))
    end
    local seen = {}
    local rows, err, offset = dao.apikeys:find_page(nil, nil, 2)
    assert.is_nil(err)
    assert.equal(2, #rows)
    assert.is_string(offset)
    local pages = 1
    while offset do
      for _, r in ipairs(rows) do seen[r.apikey] = true end
      rows, err, offset = dao.apikeys:find_page(nil, offset, 2)
      assert.is_nil(err)
      pages = pages + 1
    end
    for _, r in ipairs(rows) do seen[r.apikey] = true end
    assert.same({ p1 = true, p2 = true, p3 = true, p4 = true, p5 = true }, seen)
    assert.equal(3, pages)

    rows, err, offset = dao.apikeys:find_page({ consumer_id = alice.id }, nil, 2)
    assert.is_nil(err)
    assert.equal(2, #rows)
    local rest
    rest, err, offset = dao.apikeys:find_page({ consumer_id = alice.id }, offset, 2)
    assert.is_nil(err)
    assert.equal(1, #rest)
    assert.is_nil(offset)

    assert.equal(5, dao.apikeys:count())
    assert.equal(3, dao.apikeys:count({ consumer_id = alice.id }))
    assert.equal(1, dao.apikeys:count_by_keys({ apikey = "p4" }))
    local n
    n, err = dao.apikeys:count({ shape = "round" })
    assert.is_nil(n)
    assert.same({ shape = "unknown field" }, err.tbl)
    assert.has_error(function() dao.apikeys:find_page(nil, nil, "10") end,
                     "bad argument #3 to 'find_page' (number expected, got string)")
  end)

  it("update: partial by default, full with {full = true}, nil when the row is absent", function()
    local row = assert(dao.apikeys:insert({ consumer_id = alice.id, apikey = "u1" }))
    local updated, err = dao.apikeys:update({ apikey = "u2" }, { id = row.id })
    assert.is_nil(err)
    assert.equal("u2", updated.apikey)
    assert.equal(alice.id, updated.consumer_id)
    assert.equal(row.created_at, updated.created_at)

    updated, err = dao.apikeys:update({ consumer_id = bob.id }, { id = row.id }, { full = true })
    assert.is_nil(err)
    assert.equal(bob.id, updated.consumer_id)
    assert.is_nil(updated.apikey) -- a full update drops what it does not give
    assert.equal(row.created_at, updated.created_at)

    updated, err = dao.apikeys:update({ apikey = "x" }, { id = "00000000-0000-4000-8000-000000000000" })
    assert.is_nil(updated)
    assert.is_nil(err)

    assert(dao.apikeys:insert({ consumer_id = alice.id, apikey = "taken" }))
    updated, err = dao.apikeys:update({ apikey = "taken" }, { id = row.id })
    assert.is_nil(updated)
    assert.is_true(err.unique)

    assert.has_error(function() dao.apikeys:update({}, { id = row.id }) end,
                     "bad argument #1 to 'update' (expected table to not be empty)")
  end)

  it("delete returns the deleted row, nil when absent", function()
    local row = assert(dao.apikeys:insert({ consumer_id = alice.id, apikey = "d1" }))
    local deleted, err = dao.apikeys:delete({ id = row.id })
    assert.is_nil(err)
    assert.same(row, deleted)
    assert.is_nil(dao.apikeys:find({ id = row.id }))
    deleted, err = dao.apikeys:delete({ id = row.id })
    assert.is_nil(deleted)
    assert.is_nil(err)
    assert.has_error(function() dao.apikeys:delete({ apikey = "d1" }) end, "Missing PRIMARY KEY field")
  end)

  it("deleting a consumer deletes its apikeys (foreign = consumers:id cascades)", function()
    assert(dao.apikeys:insert({ consumer_id = alice.id, apikey = "c1" }))
    assert(dao.apikeys:insert({ consumer_id = bob.id, apikey = "c2" }))
    assert(dao.consumers:delete({ id = alice.id }))
    local rows = assert(dao.apikeys:find_all())
    assert.equal(1, #rows)
    assert.equal("c2", rows[1].apikey)
  end)

  it("core entities have 0.x DAOs too (consumers, with created_at in ms)", function()
    local c = assert(dao.consumers:find({ id = alice.id }))
    assert.equal("alice", c.username)
    assert.equal(0, c.created_at % 1000)
    local rows = assert(dao.consumers:find_all({ username = "bob" }))
    assert.equal(bob.id, rows[1].id)
    local created, err = dao.consumers:insert({ username = "alice" })
    assert.is_nil(created)
    assert.same({ username = "already exists with value 'alice'" }, err.tbl)
  end)
end)

describe("kong.dao.errors", function()
  it("builds 0.x's four kinds; tostring without a db_name is the message", function()
    local e = Errors.schema("boom")
    assert.is_true(e.schema)
    assert.equal("boom", tostring(e))
    e = Errors.db("down", "postgres")
    assert.is_true(e.db)
    assert.equal("[postgres error] down", tostring(e))
    assert.equal(e, Errors.db(e))
    assert.is_nil(Errors.unique(nil))
    e = Errors.schema({ a = "x", b = { "p", "q" } })
    assert.equal("a=x b=p,q", e.message)
  end)
end)
