-- The DAO methods (KONG-REFERENCE §2.3) on a plugin entity, on whatever
-- strategy the runner uses.
describe("kong.db DAO methods", function()
  local db = kong.db
  local dao = db.keyauth_credentials
  local bob

  before_each(function()
    assert(dao:truncate())
    assert(db.consumers:truncate())
    bob = assert(db.consumers:insert({ username = "bob" }))
  end)

  describe("insert", function()
    it("returns the entity with its auto fields", function()
      local cred, err, err_t = dao:insert({ consumer = { id = bob.id }, key = "secret" })
      assert.is_nil(err)
      assert.is_nil(err_t)
      assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", cred.id)
      assert.is_number(cred.created_at)
      assert.equal("secret", cred.key)
      assert.same({ id = bob.id }, cred.consumer)
    end)

    it("keeps only the primary key of a foreign entity given whole", function()
      local cred = assert(dao:insert({ consumer = bob, key = "whole" }))
      assert.same({ id = bob.id }, cred.consumer)
      assert.same({ id = bob.id }, dao:select({ id = cred.id }).consumer)
    end)

    it("generates a random key for an auto string", function()
      local cred = assert(dao:insert({ consumer = { id = bob.id } }))
      assert.is_string(cred.key)
      assert.equal(32, #cred.key)
    end)

    it("leaves empty fields out, unless nulls = true", function()
      local cred = assert(dao:insert({ key = "lonely" }))
      assert.is_nil(cred.consumer)
      local again = assert(dao:select({ id = cred.id }, { nulls = true }))
      assert.equal(ngx.null, again.consumer)
    end)

    it("raises on a non-table entity", function()
      assert.error_matches(function() dao:insert("x") end, "entity must be a table")
    end)

    it("raises on non-table options", function()
      assert.error_matches(function() dao:insert({}, "x") end, "options must be a table when specified")
    end)
  end)

  describe("select", function()
    it("finds an entity by primary key", function()
      local cred = assert(dao:insert({ consumer = { id = bob.id }, key = "k" }))
      local found, err = dao:select({ id = cred.id })
      assert.is_nil(err)
      assert.same(cred, found)
    end)

    it("accepts the entity itself as the primary key", function()
      local cred = assert(dao:insert({ key = "k" }))
      assert.equal("k", dao:select(cred).key)
    end)

    it("returns nil and no error when nothing is found", function()
      local found, err, err_t = dao:select({ id = "6b1e3dfc-5b8f-4e9f-9d4b-3f8a2f3e9d11" })
      assert.is_nil(found)
      assert.is_nil(err)
      assert.is_nil(err_t)
    end)

    it("raises on a non-table primary key", function()
      assert.error_matches(function() dao:select("x") end, "primary_key must be a table")
    end)
  end)

  describe("select_by_<unique field>", function()
    it("finds by the endpoint key", function()
      local cred = assert(dao:insert({ key = "abc" }))
      assert.equal(cred.id, dao:select_by_key("abc").id)
      assert.is_nil(dao:select_by_key("nope"))
    end)

    it("raises when the value has the wrong type", function()
      assert.error_matches(function() dao:select_by_key(1) end, "key must be a string")
    end)
  end)

  describe("update", function()
    it("merges a partial entity", function()
      local cred = assert(dao:insert({ consumer = { id = bob.id }, key = "one" }))
      local updated = assert(dao:update({ id = cred.id }, { key = "two" }))
      assert.equal("two", updated.key)
      assert.same({ id = bob.id }, updated.consumer)
      assert.equal(cred.created_at, updated.created_at)
    end)

    it("fails with NOT_FOUND on a missing entity", function()
      local id = "6b1e3dfc-5b8f-4e9f-9d4b-3f8a2f3e9d11"
      local res, err, err_t = dao:update({ id = id }, { key = "x" })
      assert.is_nil(res)
      assert.equal("[" .. db.strategy .. "] could not find the entity with primary key '{id=\"" .. id .. "\"}'", err)
      assert.equal(db.errors.codes.NOT_FOUND, err_t.code)
    end)

    it("update_by_<field> works and fails with the field in the message", function()
      assert(dao:insert({ key = "one" }))
      assert.equal("two", assert(dao:update_by_key("one", { key = "two" })).key)
      local res, err = dao:update_by_key("one", { key = "three" })
      assert.is_nil(res)
      assert.equal("[" .. db.strategy .. "] could not find the entity with '{key=\"one\"}'", err)
    end)
  end)

  describe("upsert", function()
    local id = "2b6a2022-770a-49df-874d-11e2bf2634f5"

    it("inserts when the primary key is new, replaces otherwise", function()
      local created = assert(dao:upsert({ id = id }, { consumer = { id = bob.id }, key = "u1" }))
      assert.equal(id, created.id)
      local replaced = assert(dao:upsert({ id = id }, { key = "u2" }))
      assert.equal("u2", replaced.key)
      assert.is_nil(replaced.consumer) -- a full replace: the consumer is gone
    end)

    it("upsert_by_<field> keys on the unique field", function()
      local a = assert(dao:upsert_by_key("k1", { consumer = { id = bob.id } }))
      local b = assert(dao:upsert_by_key("k1", { consumer = ngx.null }))
      assert.equal("k1", b.key)
      assert.equal(a.id, b.id)
    end)
  end)

  describe("delete", function()
    it("returns true, also when nothing existed", function()
      local cred = assert(dao:insert({ key = "bye" }))
      assert.is_true(dao:delete({ id = cred.id }))
      assert.is_nil(dao:select({ id = cred.id }))
      assert.is_true(dao:delete({ id = cred.id }))
    end)

    it("delete_by_<field>", function()
      assert(dao:insert({ key = "bye" }))
      assert.is_true(dao:delete_by_key("bye"))
      assert.is_nil(dao:select_by_key("bye"))
      assert.is_true(dao:delete_by_key("bye"))
    end)

    it("cascades to the entities that reference the deleted one", function()
      local cred = assert(dao:insert({ consumer = { id = bob.id } }))
      assert.is_true(db.consumers:delete({ id = bob.id }))
      assert.is_nil(dao:select({ id = cred.id }))
    end)
  end)

  describe("page and each", function()
    before_each(function()
      for i = 1, 5 do
        assert(dao:insert({ consumer = { id = bob.id }, key = "key" .. i }))
      end
    end)

    it("page returns rows, nil, nil, offset while more rows exist", function()
      local rows, err, err_t, offset = dao:page(2)
      assert.is_nil(err)
      assert.is_nil(err_t)
      assert.equal(2, #rows)
      assert.is_string(offset)
      local seen = {}
      for _, r in ipairs(rows) do seen[r.key] = true end
      while offset do
        rows, err, err_t, offset = dao:page(2, offset)
        assert.is_nil(err)
        for _, r in ipairs(rows) do seen[r.key] = true end
      end
      for i = 1, 5 do assert.is_true(seen["key" .. i]) end
    end)

    it("page's rows carry cjson's array_mt", function()
      local rows = assert(dao:page())
      assert.equal(require("cjson").array_mt, getmetatable(rows))
      local empty = assert(db.routes:page())
      assert.equal(0, #empty)
      assert.equal(require("cjson").array_mt, getmetatable(empty))
    end)

    it("each iterates every row, with the page number", function()
      local n, last_page = 0, 0
      for row, err, page in dao:each(2) do
        assert.is_nil(err)
        assert.is_table(row)
        n = n + 1
        last_page = page
      end
      assert.equal(5, n)
      assert.equal(3, last_page)
    end)

    it("page_for_<fk> and each_for_<fk> select by foreign key", function()
      local alice = assert(db.consumers:insert({ username = "alice" }))
      assert(dao:insert({ consumer = { id = alice.id }, key = "alice-key" }))
      local rows = assert(dao:page_for_consumer({ id = alice.id }))
      assert.equal(1, #rows)
      assert.equal("alice-key", rows[1].key)
      local n = 0
      for row, err in dao:each_for_consumer({ id = bob.id }, 2) do
        assert.is_nil(err)
        assert.equal(bob.id, row.consumer.id)
        n = n + 1
      end
      assert.equal(5, n)
    end)

    it("each_for_<fk> with a bad key yields false, err, err_t once", function()
      local it = dao:each_for_consumer({ id = "nope" })
      local ok, err, err_t = it()
      assert.is_false(ok)
      assert.equal("[" .. db.strategy .. "] invalid primary key: '{id=\"expected a valid UUID\"}'", err)
      assert.equal(db.errors.codes.INVALID_PRIMARY_KEY, err_t.code)
      assert.is_nil(it())
    end)

    it("raise on bad size and offset types", function()
      assert.error_matches(function() dao:page("x") end, "size must be a number")
      assert.error_matches(function() dao:page(10, 1) end, "offset must be a string")
      assert.error_matches(function() dao:each("x") end, "size must be a number")
    end)
  end)

  describe("cache keys", function()
    it("cache_key has seven segments", function()
      assert.equal("keyauth_credentials:abc:::::", dao:cache_key("abc"))
      assert.equal("keyauth_credentials:abc:::::", dao:cache_key({ key = "abc" }))
      assert.equal("keyauth_credentials:a:b:c:d:e:", dao:cache_key("a", "b", "c", "d", "e"))
      local ck = db.consumers:cache_key(bob.id)
      assert.equal(1, (ck:find("consumers:" .. bob.id .. ":::::", 1, true)))
      assert.matches(":::::%x+%-%x+%-%x+%-%x+%-%x+$", ck) -- the current workspace
      assert.equal("consumers:x:::::ws", db.consumers:cache_key("x", nil, nil, nil, nil, "ws"))
    end)

    it("select_by_cache_key with a single-field cache_key uses that field", function()
      local cred = assert(dao:insert({ key = "ck" }))
      assert.equal(cred.id, dao:select_by_cache_key("ck").id)
      assert.is_nil(dao:select_by_cache_key("nope"))
    end)

    it("raises for an entity without cache_key", function()
      assert.error_matches(function() db.routes:select_by_cache_key("x") end,
                           "entity does not have a cache_key defined")
    end)
  end)

  describe("row_to_entity", function()
    it("drops nulls and unknown keys", function()
      local e = dao:row_to_entity({ id = "2b6a2022-770a-49df-874d-11e2bf2634f5", key = "k",
                                    consumer = ngx.null, junk = 1 })
      assert.same({ id = "2b6a2022-770a-49df-874d-11e2bf2634f5", key = "k" }, e)
    end)
  end)
end)
