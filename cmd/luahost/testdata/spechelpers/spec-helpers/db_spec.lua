-- get_db_utils' db is kong.db: every DAO method with Kong's results and
-- errors, on each strategy, following the node start_kong starts.
local helpers = require "spec.helpers"

for _, strategy in helpers.all_strategies() do
  describe("spec db [#" .. strategy .. "]", function()
    local bp, db

    before_each(function()
      bp, db = helpers.get_db_utils(strategy, nil, { "label-key" })
    end)

    after_each(function()
      helpers.stop_kong()
    end)

    it("is kong.db of the strategy", function()
      assert.equal(strategy, db.strategy)
      -- as Kong's get_db_utils: kong.db is the db
      assert.equal(db, kong.db)
      assert.equal("consumers", db.consumers.schema.name)
      assert.is_nil(db.no_such_entity)
      assert.is_table(db.daos.label_keys)
      assert.is_true(db.consumers.schema:validate({ username = "v" }))
      assert.is_falsy(db.consumers.schema:validate({}))
      if strategy == "postgres" then
        local rows = assert(db.connector:query("SELECT 1 AS one"))
        assert.equal(1, rows[1].one)
      else
        assert.is_nil(db.connector)
      end
    end)

    it("inserts, selects, updates, upserts and deletes", function()
      local c = assert(db.consumers:insert({ username = "alice" }))
      assert.equal("alice", c.username)
      assert.is_number(c.created_at)
      assert.same(c, db.consumers:select({ id = c.id }))
      local missing = "00000000-0000-4000-8000-000000000001"
      local n = select("#", db.consumers:select({ id = missing }))
      assert.equal(1, n)
      assert.is_nil((db.consumers:select({ id = missing })))

      local u = assert(db.consumers:update({ id = c.id }, { custom_id = "a1" }))
      assert.equal("a1", u.custom_id)
      assert.equal("alice", u.username)

      local row, err, err_t = db.consumers:update({ id = missing }, { custom_id = "x" })
      assert.is_nil(row)
      assert.equal(6, err_t.code)
      assert.equal("not found", err_t.name)
      assert.equal(err, tostring(err_t))

      local up = assert(db.consumers:upsert({ id = missing }, { username = "bob" }))
      assert.equal(missing, up.id)
      assert.equal("bob", db.consumers:select({ id = missing }).username)

      assert.is_true(db.consumers:delete({ id = missing }))
      assert.is_nil(db.consumers:select({ id = missing }))
      -- deleting what is not there: true, as Kong
      assert.is_true(db.consumers:delete({ id = missing }))
    end)

    it("returns Kong's errors", function()
      assert(db.consumers:insert({ username = "dup" }))
      local row, err, err_t = db.consumers:insert({ username = "dup" })
      assert.is_nil(row)
      assert.equal(5, err_t.code)
      assert.equal("unique constraint violation", err_t.name)
      assert.equal("dup", err_t.fields.username)
      assert.equal(strategy, err_t.strategy)
      assert.equal(err, tostring(err_t))

      row, err, err_t = db.consumers:insert({})
      assert.is_nil(row)
      assert.equal(2, err_t.code)
      assert.equal("schema violation", err_t.name)
      assert.is_string(err_t.fields["@entity"][1])
      assert.matches("schema violation", err, 1, true)

      row, err, err_t = db.consumers:select({ id = "not-a-uuid" })
      assert.is_nil(row)
      assert.equal(1, err_t.code)
      assert.equal("invalid primary key", err_t.name)

      -- wrong argument types raise, as Kong's
      assert.error_matches(function() db.consumers:insert("x") end, "entity must be a table")
      assert.error_matches(function() db.consumers:update("x", {}) end, "primary_key must be a table")
      assert.error_matches(function() db.consumers:select() end, "primary_key must be a table")
    end)

    it("runs the schemas' Lua functions in a worker of the node", function()
      local c = bp.consumers:insert()
      local row, err, err_t = db.label_keys:insert({ key = "k", label = "forbidden", consumer = { id = c.id } })
      assert.is_nil(row)
      assert.equal(2, err_t.code)
      assert.matches("label 'forbidden' is refused", err, 1, true)
      assert(db.label_keys:insert({ key = "k", label = "fine", consumer = { id = c.id } }))
    end)

    it("has the by-field methods of unique fields and endpoint keys", function()
      local c = assert(db.consumers:insert({ username = "carol" }))
      assert.equal(c.id, db.consumers:select_by_username("carol").id)
      assert.is_nil(db.consumers:select_by_username("nobody"))
      local u = assert(db.consumers:update_by_username("carol", { custom_id = "c1" }))
      assert.equal("c1", u.custom_id)
      local up = assert(db.consumers:upsert_by_username("dave", { custom_id = "d1" }))
      assert.equal("dave", up.username)
      assert.is_true(db.consumers:delete_by_username("dave"))
      assert.is_nil(db.consumers:select_by_username("dave"))

      local k = assert(db.label_keys:insert({ key = "lk", consumer = c }))
      assert.equal(k.id, db.label_keys:select_by_key("lk").id)
      local _, _, err_t = db.label_keys:insert({ key = "lk", consumer = c })
      assert.equal(5, err_t.code)
    end)

    it("pages and iterates, by foreign key too", function()
      local c1 = bp.consumers:insert()
      local c2 = bp.consumers:insert()
      for i = 1, 3 do
        assert(db.label_keys:insert({ key = "a" .. i, consumer = { id = c1.id } }))
      end
      assert(db.label_keys:insert({ key = "b", consumer = { id = c2.id } }))

      local rows, err, err_t, offset = db.label_keys:page(3)
      assert.is_nil(err)
      assert.is_nil(err_t)
      assert.equal(3, #rows)
      assert.is_string(offset)
      local rest = db.label_keys:page(3, offset)
      assert.equal(1, #rest)

      local n = 0
      for row, ierr in db.label_keys:each(2) do
        assert.is_nil(ierr)
        assert.is_string(row.key)
        n = n + 1
      end
      assert.equal(4, n)

      local mine = db.label_keys:page_for_consumer({ id = c1.id })
      assert.equal(3, #mine)
      n = 0
      for row in db.label_keys:each_for_consumer({ id = c2.id }) do
        assert.equal("b", row.key)
        n = n + 1
      end
      assert.equal(1, n)

      local _, perr, perr_t = db.label_keys:page(0)
      assert.equal("invalid size", perr_t.name)
      assert.is_string(perr)
    end)

    it("has cache_key and select_by_cache_key", function()
      local c = bp.consumers:insert()
      assert.equal(1, db.consumers:cache_key(c.id):find("consumers:" .. c.id .. ":", 1, true))
      local route = bp.routes:insert({ hosts = { "ck.test" } })
      local p = assert(db.plugins:insert({ name = "add-header", route = { id = route.id } }))
      local key = db.plugins:cache_key(p)
      assert.equal(p.id, db.plugins:select_by_cache_key(key).id)
      assert.is_nil(db.plugins:select_by_cache_key("plugins:nothing:::::"))
    end)

    it("truncates", function()
      bp.consumers:insert()
      assert.is_true(db.consumers:truncate())
      assert.equal(0, #db.consumers:page())
      bp.consumers:insert()
      assert.is_true(db:truncate("consumers"))
      assert.equal(0, #db.consumers:page())
      assert.error_matches(function() db:truncate(1) end, "table_name must be a string")
      if strategy == "postgres" then
        -- a table that is no entity's (a plugin's own, as rate-limiting's
        -- ratelimiting_metrics), as Kong's connector:truncate_table
        assert(db.connector:query("CREATE TABLE IF NOT EXISTS spec_counts (n int); INSERT INTO spec_counts VALUES (1);"))
        assert.is_true(db:truncate("spec_counts"))
        assert.equal(0, db.connector:query("SELECT count(*) AS c FROM spec_counts")[1].c)
        local ok, err = db:truncate("no_such_table")
        assert.is_nil(ok)
        assert.matches("no_such_table", err, 1, true)
      end
    end)

    it("follows the node start_kong starts, writes seen by its next request", function()
      local consumers = db.consumers
      local c = bp.consumers:insert({ username = "before" })
      bp.routes:insert({ hosts = { "first.test" } })
      assert(helpers.start_kong({ database = strategy, plugins = "bundled,label-key" }))
      -- the db got before start_kong reaches the started node's store
      assert.equal(c.id, consumers:select_by_username("before").id)
      assert(consumers:insert({ username = "after" }))
      assert.equal("after", db.consumers:select_by_username("after").username)

      bp.routes:insert({ hosts = { "second.test" } })
      local proxy = helpers.proxy_client()
      local res = proxy:get("/", { headers = { host = "second.test" } })
      assert.res_status(200, res)
      proxy:close()
    end)
  end)
end
