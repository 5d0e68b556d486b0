-- The code examples of Kong's plugin development guide, as written there
-- ("Storing custom entities" and "Accessing the datastore", seeds 000 and
-- 002), run against the guide's keyauth_credentials entity (dao-fixtures).
-- Two fixes to the guide's text, which is not valid Lua as printed: its
-- `for ... on dao:each(...)` reads `in`, and the trailing comma in its
-- update call is dropped. Seed 002 inserts a plugin named "key-auth"; here
-- it is "dao-fixtures", the plugin enabled in this runner.
describe("plugin development guide: storing custom entities", function()
  local consumer_id = "c77c50d2-5947-4904-9f37-fa36182a71a9"
  local other_consumer_id = "a96145fb-d71e-4c88-8a5a-2c8b1947534c"
  local credential_id = "2b6a2022-770a-49df-874d-11e2bf2634f5"
  local logged

  before_each(function()
    assert(kong.db.keyauth_credentials:truncate())
    assert(kong.db.consumers:truncate())
    assert(kong.db.consumers:insert({ id = consumer_id, username = "c1" }))
    assert(kong.db.consumers:insert({ id = other_consumer_id, username = "c2" }))
    logged = {}
  end)

  -- the guide's snippets log through kong.log; capture what they log
  local function capture(fn)
    local log, err = kong.log, kong.log.err
    local spy = setmetatable({
      err = function(...) logged[#logged + 1] = "err: " .. table.concat({ ... }) end,
    }, { __call = function(_, ...) logged[#logged + 1] = table.concat({ ... }) end })
    kong.log = spy
    local ok, res = pcall(fn)
    kong.log = log
    assert(ok, res)
    return res
  end

  it("select an entity", function()
    local function example()
      local entity, err, err_t = kong.db.keyauth_credentials:select({
        id = "c77c50d2-5947-4904-9f37-fa36182a71a9"
      })

      if err then
        kong.log.err("Error when inserting keyauth credential: " .. err)
        return nil
      end

      if not entity then
        kong.log.err("Could not find credential.")
        return nil
      end
      return entity
    end
    assert.is_nil(capture(example))
    assert.same({ "err: Could not find credential." }, logged)

    assert(kong.db.keyauth_credentials:insert({ id = consumer_id, key = "k" }))
    logged = {}
    local found = capture(example)
    assert.equal("k", found.key)
    assert.same({}, logged)
  end)

  it("iterate over all the entities", function()
    for i = 1, 5 do
      assert(kong.db.keyauth_credentials:insert({ key = "key" .. i }))
    end
    capture(function()
      for credential, err in kong.db.keyauth_credentials:each(1000) do
        if err then
          kong.log.err("Error when iterating over keyauth credentials: " .. err)
          return nil
        end

        kong.log("id: " .. credential.id)
      end
    end)
    assert.equal(5, #logged)
    for _, line in ipairs(logged) do
      assert.matches("^id: %x+%-%x+%-%x+%-%x+%-%x+$", line)
    end
  end)

  it("insert an entity", function()
    local entity = capture(function()
      local entity, err = kong.db.keyauth_credentials:insert({
        consumer = { id = "c77c50d2-5947-4904-9f37-fa36182a71a9" },
        key = "secret",
      })

      if not entity then
        kong.log.err("Error when inserting keyauth credential: " .. err)
        return nil
      end
      return entity
    end)
    assert.same({}, logged)
    assert.equal("secret", entity.key)
    assert.same({ id = consumer_id }, entity.consumer)
    assert.is_string(entity.id)
    assert.is_number(entity.created_at)
  end)

  it("insert an entity: the error path logs Kong's message", function()
    assert(kong.db.keyauth_credentials:insert({ key = "secret" }))
    capture(function()
      local entity, err = kong.db.keyauth_credentials:insert({
        consumer = { id = "c77c50d2-5947-4904-9f37-fa36182a71a9" },
        key = "secret",
      })

      if not entity then
        kong.log.err("Error when inserting keyauth credential: " .. err)
        return nil
      end
    end)
    assert.same({ "err: Error when inserting keyauth credential: [" .. kong.db.strategy
                  .. "] UNIQUE violation detected on '{key=\"secret\"}'" }, logged)
  end)

  it("update an entity", function()
    assert(kong.db.keyauth_credentials:insert({ id = credential_id, key = "secret" }))
    local entity = capture(function()
      local entity, err = kong.db.keyauth_credentials:update(
        { id = "2b6a2022-770a-49df-874d-11e2bf2634f5" },
        { key = "updated_secret" }
      )

      if not entity then
        kong.log.err("Error when updating keyauth credential: " .. err)
        return nil
      end
      return entity
    end)
    assert.same({}, logged)
    assert.equal("updated_secret", entity.key)
    assert.equal("updated_secret", kong.db.keyauth_credentials:select({ id = credential_id }).key)
  end)

  local function upsert_example()
    local entity, err = kong.db.keyauth_credentials:upsert(
      { id = "2b6a2022-770a-49df-874d-11e2bf2634f5" },
      { consumer = { id = "a96145fb-d71e-4c88-8a5a-2c8b1947534c" } }
    )

    if not entity then
      kong.log.err("Error when upserting keyauth credential: " .. err)
      return nil
    end
    return entity
  end

  it("upsert an entity that exists: sets its consumer", function()
    assert(kong.db.keyauth_credentials:insert({ id = credential_id, consumer = { id = consumer_id } }))
    local entity = capture(upsert_example)
    assert.same({}, logged)
    assert.equal(credential_id, entity.id)
    assert.same({ id = other_consumer_id }, entity.consumer)
  end)

  it("upsert an entity that does not exist: creates it with the id and consumer", function()
    local entity = capture(upsert_example)
    assert.same({}, logged)
    assert.equal(credential_id, entity.id)
    assert.same({ id = other_consumer_id }, kong.db.keyauth_credentials:select({ id = credential_id }).consumer)
  end)

  it("delete an entity, also one that does not exist", function()
    assert(kong.db.keyauth_credentials:insert({ id = credential_id }))
    local function example()
      local ok, err = kong.db.keyauth_credentials:delete({
        id = "2b6a2022-770a-49df-874d-11e2bf2634f5"
      })

      if not ok then
        kong.log.err("Error when deleting keyauth credential: " .. err)
        return nil
      end
      return ok
    end
    assert.is_true(capture(example))
    assert.is_nil(kong.db.keyauth_credentials:select({ id = credential_id }))
    assert.is_true(capture(example))
    assert.same({}, logged)
  end)
end)

describe("plugin development guide: accessing the datastore", function()
  before_each(function()
    assert(kong.db.plugins:truncate())
    assert(kong.db.routes:truncate())
    assert(kong.db.services:truncate())
  end)

  it("core DAOs are on kong.db", function()
    -- Core DAOs
    local services  = kong.db.services
    local routes    = kong.db.routes
    local consumers = kong.db.consumers
    local plugins   = kong.db.plugins
    assert.equal("services", services.schema.name)
    assert.equal("routes", routes.schema.name)
    assert.equal("consumers", consumers.schema.name)
    assert.equal("plugins", plugins.schema.name)
  end)

  it("inserts a service and a plugin on it", function()
    local inserted_service, err = kong.db.services:insert({
      name = "mockbin",
      url  = "http://mockbin.org",
    })
    assert.is_nil(err)
    assert.equal("mockbin", inserted_service.name)
    assert.equal("http", inserted_service.protocol)
    assert.equal("mockbin.org", inserted_service.host)
    assert.equal(80, inserted_service.port)

    local inserted_plugin, err = kong.db.plugins:insert({
      name    = "dao-fixtures",
      service = inserted_service,
    })
    assert.is_nil(err)
    assert.same({ id = inserted_service.id }, inserted_plugin.service)
    assert.is_true(inserted_plugin.enabled)
    assert.same({ "apikey" }, inserted_plugin.config.key_names)
    assert.is_false(inserted_plugin.config.hide_credentials)
  end)

  it("refuses a plugin that is not enabled", function()
    local plugin, err, err_t = kong.db.plugins:insert({ name = "no-such-plugin" })
    assert.is_nil(plugin)
    assert.equal(kong.db.errors.codes.SCHEMA_VIOLATION, err_t.code)
    assert.equal("[" .. kong.db.strategy .. "] schema violation (name: plugin 'no-such-plugin' not enabled; "
                 .. "add it to the 'plugins' configuration property)", err)
  end)
end)
