-- Kong's error values (KONG-REFERENCE §3): every code, the err_t shape
-- and its __tostring / __concat, as DAO methods return them
-- (nil, tostring(err_t), err_t) and as kong.db.errors builds them.
describe("kong.db errors", function()
  local db = kong.db
  local dao = db.keyauth_credentials
  local codes = db.errors.codes
  local prefix = "[" .. db.strategy .. "] "
  local ghost = "6b1e3dfc-5b8f-4e9f-9d4b-3f8a2f3e9d11"
  local bob

  -- calls fn, checks Kong's failure triple and returns err, err_t
  local function fails(code, name, fn)
    local res, err, err_t = fn()
    assert.is_nil(res)
    assert.is_string(err)
    assert.is_table(err_t)
    assert.equal(code, err_t.code)
    assert.equal(name, err_t.name)
    assert.equal(db.strategy, err_t.strategy)
    assert.equal(err, tostring(err_t))
    return err, err_t
  end

  before_each(function()
    assert(dao:truncate())
    assert(db.consumers:truncate())
    bob = assert(db.consumers:insert({ username = "bob" }))
  end)

  it("INVALID_PRIMARY_KEY", function()
    local err, err_t = fails(codes.INVALID_PRIMARY_KEY, "invalid primary key", function()
      return dao:select({ id = "x" })
    end)
    assert.equal(prefix .. "invalid primary key: '{id=\"expected a valid UUID\"}'", err)
    assert.same({ id = "expected a valid UUID" }, err_t.fields)
  end)

  it("SCHEMA_VIOLATION, one and several", function()
    local err, err_t = fails(codes.SCHEMA_VIOLATION, "schema violation", function()
      return dao:insert({ consumer = { id = "x" } })
    end)
    assert.equal(prefix .. "schema violation (consumer.id: expected a valid UUID)", err)
    assert.same({ consumer = { id = "expected a valid UUID" } }, err_t.fields)

    err = fails(codes.SCHEMA_VIOLATION, "schema violation", function()
      return dao:insert({ key = 1, nope = true })
    end)
    assert.equal(prefix .. "2 schema violations (key: expected a string; nope: unknown field)", err)
  end)

  it("PRIMARY_KEY_VIOLATION", function()
    assert(db.consumers:insert({ id = ghost, username = "a" }))
    local err, err_t = fails(codes.PRIMARY_KEY_VIOLATION, "primary key violation", function()
      return db.consumers:insert({ id = ghost, username = "b" })
    end)
    assert.equal(prefix .. "primary key violation on key '{id=\"" .. ghost .. "\"}'", err)
    assert.same({ id = ghost }, err_t.fields)
  end)

  it("PRIMARY_KEY_VIOLATION reads as a UNIQUE violation when the constraint name holds a unique field's name",
     function()
    -- Kong's postgres strategy finds the field by searching the constraint
    -- name: "keyauth_credentials_pkey" contains "key".
    if db.strategy ~= "postgres" then
      return
    end
    assert(dao:insert({ id = ghost, key = "a" }))
    local err = fails(codes.UNIQUE_VIOLATION, "unique constraint violation", function()
      return dao:insert({ id = ghost, key = "b" })
    end)
    assert.equal(prefix .. "UNIQUE violation detected on '{key=\"b\"}'", err)
  end)

  it("FOREIGN_KEY_VIOLATION", function()
    local err, err_t = fails(codes.FOREIGN_KEY_VIOLATION, "foreign key violation", function()
      return dao:insert({ consumer = { id = ghost } })
    end)
    assert.equal(prefix .. "the foreign key '{id=\"" .. ghost
                 .. "\"}' does not reference an existing 'consumers' entity.", err)
    assert.same({ consumer = { id = ghost } }, err_t.fields)
  end)

  it("UNIQUE_VIOLATION", function()
    assert(dao:insert({ key = "dup" }))
    local err, err_t = fails(codes.UNIQUE_VIOLATION, "unique constraint violation", function()
      return dao:insert({ key = "dup" })
    end)
    assert.equal(prefix .. "UNIQUE violation detected on '{key=\"dup\"}'", err)
    assert.same({ key = "dup" }, err_t.fields)
  end)

  it("NOT_FOUND", function()
    local err, err_t = fails(codes.NOT_FOUND, "not found", function()
      return dao:update({ id = ghost }, { key = "x" })
    end)
    assert.equal(prefix .. "could not find the entity with primary key '{id=\"" .. ghost .. "\"}'", err)
    assert.same({ id = ghost }, err_t.fields)
  end)

  it("INVALID_OFFSET", function()
    local err = fails(codes.INVALID_OFFSET, "invalid offset", function()
      return dao:page(10, "!!!")
    end)
    assert.equal(prefix .. "'!!!' is not a valid offset: bad base64 encoding", err)
  end)

  it("INVALID_SIZE", function()
    local max = dao.pagination.max_page_size
    local err = fails(codes.INVALID_SIZE, "invalid size", function() return dao:page(0) end)
    assert.equal(prefix .. "size must be an integer between 1 and " .. max, err)
    err = fails(codes.INVALID_SIZE, "invalid size", function() return dao:page(max + 1) end)
    assert.equal(prefix .. "size must be an integer between 1 and " .. max, err)
    err = fails(codes.INVALID_SIZE, "invalid size", function() return dao:each(1.5) end)
    assert.equal(prefix .. "size must be an integer between 1 and " .. max, err)
  end)

  it("INVALID_UNIQUE names the field", function()
    local err, err_t = fails(codes.INVALID_UNIQUE, "invalid unique name", function()
      return db.workspaces:select_by_name("plugins")
    end)
    assert.matches("must not be one of: workspaces, consumers, ", err, 1, true)
  end)

  it("INVALID_OPTIONS, with options instead of fields", function()
    local err, err_t = fails(codes.INVALID_OPTIONS, "invalid options", function()
      return dao:insert({ key = "k" }, { ttl = 10 })
    end)
    assert.equal(prefix .. "invalid option (ttl: cannot be used with 'keyauth_credentials')", err)
    assert.same({ ttl = "cannot be used with 'keyauth_credentials'" }, err_t.options)
    assert.is_nil(err_t.fields)
  end)

  it("FOREIGN_KEYS_UNRESOLVED", function()
    local err = fails(codes.FOREIGN_KEYS_UNRESOLVED, "foreign keys unresolved", function()
      return dao:insert({ consumer = { username = "nobody" } })
    end)
    assert.equal(prefix .. "foreign key unresolved (consumer.username: the foreign key cannot be resolved "
                 .. "with '{username=\"nobody\"}' for an existing 'consumers' entity)", err)
  end)

  it("resolves a foreign key given by a unique field", function()
    local cred = assert(dao:insert({ consumer = { username = "bob" } }))
    assert.same({ id = bob.id }, cred.consumer)
  end)

  it("INVALID_UNIQUE_GLOBAL", function()
    local err = fails(codes.INVALID_UNIQUE_GLOBAL, "invalid global query", function()
      return db.consumers:select_by_username("bob", { workspace = ngx.null })
    end)
    assert.equal(prefix .. "unique key username is invalid for global query", err)
  end)

  describe("kong.db.errors constructors", function()
    local errors = db.errors

    local cases = {
      { "database_error", { "boom" }, 8, "database error", "boom" },
      { "database_error", {}, 8, "database error", "database error" },
      { "invalid_size", { "size must be an integer between 1 and 10" }, 9, "invalid size",
        "size must be an integer between 1 and 10" },
      { "operation_unsupported", { "cannot do that" }, 12, "operation unsupported", "cannot do that" },
      { "declarative_config", { { a = "b" } }, 14, "invalid declarative configuration",
        "declarative config is invalid: {a=\"b\"}" },
      { "transformation_error", { "bad transform" }, 15, "transformation error", "bad transform" },
      { "invalid_foreign_key", { { id = "x" } }, 16, "invalid foreign key", "invalid foreign key: '{id=\"x\"}'" },
      { "invalid_workspace", { "ws" }, 17, "invalid workspace", "invalid workspace 'ws'" },
      { "invalid_unique_global", { "name" }, 18, "invalid global query", "unique key name is invalid for global query" },
      { "referenced_by_others", { "still used" }, 19, "referenced by others", "still used" },
      { "not_found_by_field", { { name = "x" } }, 6, "not found", "could not find the entity with '{name=\"x\"}'" },
      { "invalid_unique", { "name", "bad" }, 10, "invalid unique name", "bad" },
      { "foreign_key_violation_restricted", { "consumers", "keyauth_credentials" }, 4, "foreign key violation",
        "an existing 'keyauth_credentials' entity references this 'consumers' entity" },
    }
    for _, c in ipairs(cases) do
      it(c[1], function()
        local err_t = errors[c[1]](errors, unpack(c[2]))
        assert.equal(c[3], err_t.code)
        assert.equal(c[4], err_t.name)
        assert.equal(c[5], err_t.message)
        assert.equal(prefix .. c[5], tostring(err_t))
      end)
    end

    it("fields of foreign_key_violation_restricted", function()
      local err_t = errors:foreign_key_violation_restricted("consumers", "keyauth_credentials")
      assert.same({ ["@referenced_by"] = "keyauth_credentials" }, err_t.fields)
    end)

    it("a code without a constructor gives a bare err_t with a null message", function()
      local err_t = errors:foreign_key_violation()
      assert.equal(4, err_t.code)
      assert.equal(ngx.null, err_t.message)
      assert.equal(prefix .. "foreign key violation", tostring(err_t))
    end)

    it("raise on bad arguments", function()
      assert.error_matches(function() errors:not_found("x") end, "primary_key must be a table")
      assert.error_matches(function() errors:invalid_offset(1, "x") end, "offset must be a string")
    end)

    it("Errors.new(strategy) from the kong.db.errors module", function()
      local Errors = require "kong.db.errors"
      assert.equal(6, Errors.codes.NOT_FOUND)
      assert.equal("not found", Errors.names[6])
      local e = Errors.new("postgres"):unique_violation({ username = "bob" })
      assert.equal("[postgres] UNIQUE violation detected on '{username=\"bob\"}'", tostring(e))
      local bare = Errors.new():not_found({ id = "1" })
      assert.equal("could not find the entity with primary key '{id=\"1\"}'", tostring(bare))
    end)
  end)

  describe("err_t", function()
    it("concatenates as its string", function()
      local _, _, err_t = dao:select({ id = "x" })
      assert.equal("error: " .. tostring(err_t), "error: " .. err_t)
      assert.equal(tostring(err_t) .. "!", err_t .. "!")
    end)

    it("is Kong's table: code, name, message, strategy, fields", function()
      local _, _, err_t = dao:select({ id = "x" })
      local keys = {}
      for k in pairs(err_t) do keys[#keys + 1] = k end
      table.sort(keys)
      assert.same({ "code", "fields", "message", "name", "strategy" }, keys)
    end)
  end)
end)
