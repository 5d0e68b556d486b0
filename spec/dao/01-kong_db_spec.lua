-- kong.db as a plugin sees it (KONG-REFERENCE §2.1): DAOs by entity name,
-- strategy, errors, connector, daos.
describe("kong.db", function()
  local db = kong.db

  it("gives the DAO of a core entity by name", function()
    for _, name in ipairs({ "services", "routes", "consumers", "plugins" }) do
      assert.is_table(db[name], name)
      assert.equal(name, db[name].schema.name)
    end
  end)

  it("gives the DAO of a plugin entity by name", function()
    assert.is_table(db.keyauth_credentials)
    assert.equal("keyauth_credentials", db.keyauth_credentials.schema.name)
  end)

  it("gives nil for an unknown entity", function()
    assert.is_nil(db.no_such_entity)
  end)

  it("returns the same DAO object every time", function()
    assert.equal(db.consumers, db.consumers)
    assert.equal(db.consumers, db.daos.consumers)
  end)

  it("lists every DAO in daos", function()
    local names = {}
    for name, dao in pairs(db.daos) do
      names[name] = dao.schema.name
    end
    assert.equal("consumers", names.consumers)
    assert.equal("keyauth_credentials", names.keyauth_credentials)
    assert.equal("dbfix_groups", names.dbfix_groups)
  end)

  it("names its strategy", function()
    assert.is_string(db.strategy)
    assert.truthy(db.strategy == "off" or db.strategy == "postgres")
  end)

  it("has no connector with the embedded strategy", function()
    if db.strategy == "off" then
      assert.is_nil(db.connector)
    else
      assert.truthy(db.connector)
      assert.equal("'it''s'", db.connector:escape_literal("it's"))
    end
  end)

  it("exposes the error codes as errors.codes.X and errors.X", function()
    local codes = {
      INVALID_PRIMARY_KEY = 1, SCHEMA_VIOLATION = 2, PRIMARY_KEY_VIOLATION = 3,
      FOREIGN_KEY_VIOLATION = 4, UNIQUE_VIOLATION = 5, NOT_FOUND = 6, INVALID_OFFSET = 7,
      DATABASE_ERROR = 8, INVALID_SIZE = 9, INVALID_UNIQUE = 10, INVALID_OPTIONS = 11,
      OPERATION_UNSUPPORTED = 12, FOREIGN_KEYS_UNRESOLVED = 13, DECLARATIVE_CONFIG = 14,
      TRANSFORMATION_ERROR = 15, INVALID_FOREIGN_KEY = 16, INVALID_WORKSPACE = 17,
      INVALID_UNIQUE_GLOBAL = 18, REFERENCED_BY_OTHERS = 19,
    }
    for name, code in pairs(codes) do
      assert.equal(code, db.errors.codes[name], name)
      assert.equal(code, db.errors[name], name)
    end
    assert.equal(db.strategy, db.errors.strategy)
  end)

  it("gives each DAO Kong's fields: db, schema, strategy, errors, pagination, super", function()
    local dao = db.keyauth_credentials
    assert.equal(db, dao.db)
    assert.is_table(dao.schema)
    assert.is_table(dao.strategy)
    assert.equal(db.errors, dao.errors)
    assert.is_number(dao.pagination.page_size)
    assert.is_number(dao.pagination.max_page_size)
    assert.is_function(dao.super.insert)
    assert.equal(dao.super.select, dao.select)
  end)

  it("generates the by-field and for-foreign-key methods", function()
    local dao = db.keyauth_credentials
    for _, m in ipairs({ "select_by_key", "update_by_key", "upsert_by_key", "delete_by_key",
                         "page_for_consumer", "each_for_consumer", "select_by_cache_key", "cache_key" }) do
      assert.is_function(dao[m], m)
    end
    assert.is_nil(dao.select_by_consumer)
    assert.is_nil(dao.page_for_key)
    assert.is_function(db.consumers.select_by_username)
    assert.is_function(db.consumers.select_by_custom_id)
  end)
end)
