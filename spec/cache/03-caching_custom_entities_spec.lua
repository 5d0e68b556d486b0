-- Seed 001 (plugin development guide, "Caching custom entities"): the
-- handler pattern, automatic invalidation of an entity's cache_key on
-- create/update/delete, and manual invalidation from a "crud" callback.
-- The credentials are the token-auth plugin's (plugins/token-auth), the
-- same shape as the guide's keyauth_credentials.
describe("caching custom entities", function()
  if not kong.cache or not kong.db then
    pending("kong.cache or kong.db is not installed in this host's workers")
    return
  end

  local queries = 0
  local function load_credential(key)
    queries = queries + 1
    local credential, err = kong.db.token_credentials:select_by_key(key)
    if not credential then
      return nil, err
    end
    return credential
  end

  local function lookup(key)
    local credential_cache_key = kong.db.token_credentials:cache_key(key)
    return kong.cache:get(credential_cache_key, nil, load_credential, key)
  end

  local consumer
  setup(function()
    consumer = assert(kong.db.consumers:insert({ username = "seed001-" .. ngx.now() }))
  end)

  before_each(function() queries = 0 end)

  it("reaches the datastore on the first lookup only", function()
    assert(kong.db.token_credentials:insert({ key = "seed001-k1", consumer = { id = consumer.id } }))
    local cred, err, hit = lookup("seed001-k1")
    assert.is_nil(err)
    assert.equal("seed001-k1", cred.key)
    assert.equal(3, hit)
    cred, err, hit = lookup("seed001-k1")
    assert.equal(1, hit)
    assert.equal(1, queries)
  end)

  it("sees an update at the next lookup", function()
    lookup("seed001-k1")
    local other = assert(kong.db.consumers:insert({ username = "seed001-other-" .. ngx.now() }))
    assert(kong.db.token_credentials:update_by_key("seed001-k1", { consumer = { id = other.id } }))
    local cred, _, hit = lookup("seed001-k1")
    assert.equal(other.id, cred.consumer.id)
    assert.equal(3, hit)
  end)

  it("evicts a cached miss when the entity is created", function()
    local cred, err, hit = lookup("seed001-k2")
    assert.is_nil(cred)
    assert.is_nil(err)
    cred, err, hit = lookup("seed001-k2")
    assert.is_nil(cred)
    assert.equal(1, hit)
    assert.equal(1, queries)
    assert(kong.db.token_credentials:insert({ key = "seed001-k2", consumer = { id = consumer.id } }))
    cred, err, hit = lookup("seed001-k2")
    assert.equal("seed001-k2", cred.key)
    assert.equal(3, hit)
  end)

  it("sees a delete at the next lookup", function()
    lookup("seed001-k2")
    assert(kong.db.token_credentials:delete_by_key("seed001-k2"))
    local cred, err, hit = lookup("seed001-k2")
    assert.is_nil(cred)
    assert.is_nil(err)
    assert.equal(3, hit)
  end)

  it("lets a crud callback invalidate the plugin's own keys", function()
    local ops = {}
    kong.worker_events.register(function(data)
      ops[#ops + 1] = data.operation
      if data.operation == "delete" then
        local cache_key = data.entity.id
        kong.cache:invalidate("prefix:" .. cache_key)
      end
    end, "crud", "consumers")
    local updated
    kong.worker_events.register(function(data)
      updated = data.old_entity.username .. "->" .. data.entity.username .. " (" .. data.schema.name .. ")"
    end, "crud", "consumers:update")

    local c = assert(kong.db.consumers:insert({ username = "seed001-manual" }))
    kong.cache:get("prefix:" .. c.id, nil, function() return { id = c.id } end)
    assert(kong.db.consumers:update({ id = c.id }, { username = "seed001-manual2" }))
    assert.equal("seed001-manual->seed001-manual2 (consumers)", updated)
    local _, _, hit = kong.cache:get("prefix:" .. c.id, nil, function() return { id = c.id } end)
    assert.equal(1, hit)
    assert(kong.db.consumers:delete({ id = c.id }))
    _, _, hit = kong.cache:get("prefix:" .. c.id, nil, function() return { id = c.id } end)
    assert.equal(3, hit)
    assert.same({ "create", "update", "delete" }, ops)
  end)
end)
