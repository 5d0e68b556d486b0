-- kong.tools.database_cache (Kong 0.5 - 0.10, KONG-REFERENCE §9.3, seed 003):
-- values on kong.cache's two levels, raw values in a shared dict, the
-- get_or_set conventions of 0.9 and 0.10, the key helpers.
describe("kong.tools.database_cache", function()
  if not kong.cache then
    pending("kong.cache is not installed in this host's workers (pdk.OpenCache)")
    return
  end

  local cache = require "kong.tools.database_cache"
  local n = 0
  local function key(name)
    n = n + 1
    return "spec:dbcache:" .. name .. ":" .. n .. ":" .. ngx.now()
  end

  it("set then get returns the value, tables included", function()
    local k = key("set")
    assert.is_true(cache.set(k, { id = "a", list = { 1, 2 } }))
    assert.same({ id = "a", list = { 1, 2 } }, cache.get(k))
    local k2 = key("scalar")
    assert.is_true(cache.set(k2, "v"))
    assert.equal("v", cache.get(k2))
    assert.is_true(cache.set(k2, false))
    assert.equal(false, cache.get(k2))
  end)

  it("stores into kong.cache's L2, so every worker of the node sees it", function()
    local k = key("l2")
    assert.is_true(cache.set(k, { x = 1 }))
    local ttl, err, v = kong.cache:probe(k)
    assert.is_nil(err)
    assert.equal(0, ttl)
    assert.same({ x = 1 }, v)
  end)

  it("set with a ttl (0.10) stores it with that ttl", function()
    local k = key("ttl")
    assert.is_true(cache.set(k, "v", 30))
    local ttl, _, v = kong.cache:probe(k)
    assert.equal("v", v)
    assert.truthy(ttl > 29 and ttl <= 30, "remaining ttl " .. tostring(ttl))
  end)

  it("set replaces the value every worker's L1 holds", function()
    local k = key("replace")
    assert.is_true(cache.set(k, "one"))
    assert.equal("one", kong.cache:get(k)) -- now in this worker's L1
    assert.is_true(cache.set(k, "two"))
    assert.equal("two", cache.get(k))
    assert.equal("two", kong.cache:get(k))
  end)

  it("get of an absent key is nil", function()
    assert.is_nil(cache.get(key("absent")))
  end)

  it("set with a nil value deletes the key", function()
    local k = key("nil")
    assert.is_true(cache.set(k, "v"))
    assert.is_true(cache.set(k, nil))
    assert.is_nil(cache.get(k))
  end)

  it("delete removes the value from both levels", function()
    local k = key("delete")
    assert.is_true(cache.set(k, "v"))
    assert.equal("v", cache.get(k))
    assert.is_nil(cache.delete(k))
    assert.is_nil(cache.get(k))
    assert.is_nil(kong.cache:probe(k))
  end)

  it("get_or_set (0.9 form) runs the callback once and caches a truthy value", function()
    local k, calls = key("gos9"), 0
    local function cb()
      calls = calls + 1
      return { key = "abc" }
    end
    assert.same({ key = "abc" }, cache.get_or_set(k, cb))
    assert.same({ key = "abc" }, cache.get_or_set(k, cb))
    assert.equal(1, calls)
    assert.same({ key = "abc" }, cache.get(k))
  end)

  it("get_or_set (0.9 form) does not cache a nil result and passes nil, err on", function()
    local k, calls = key("gos9nil"), 0
    local function cb()
      calls = calls + 1
      return nil, "db down"
    end
    local v, err = cache.get_or_set(k, cb)
    assert.is_nil(v)
    assert.equal("db down", err)
    cache.get_or_set(k, cb)
    assert.equal(2, calls)
    assert.is_nil(cache.get(k))
  end)

  it("get_or_set (0.10 form) passes the arguments, caches the first result with the ttl", function()
    local k, calls = key("gos10"), 0
    local function cb(a, b)
      calls = calls + 1
      return a .. b, "second"
    end
    local v, extra = cache.get_or_set(k, 60, cb, "x", "y")
    assert.equal("xy", v)
    assert.is_nil(extra) -- only the first value is returned once cached
    assert.equal("xy", cache.get_or_set(k, 60, cb, "z", "z"))
    assert.equal(1, calls)
    local ttl = kong.cache:probe(k)
    assert.truthy(ttl > 59 and ttl <= 60, "remaining ttl " .. tostring(ttl))
  end)

  it("get_or_set (0.10 form) caches false, not nil; nil returns every result", function()
    local k = key("gos10false")
    assert.equal(false, cache.get_or_set(k, nil, function() return false end))
    assert.equal(false, cache.get_or_set(k, nil, function() return "other" end))
    local k2 = key("gos10nil")
    local a, b, c = cache.get_or_set(k2, nil, function() return nil, "err", 3 end)
    assert.is_nil(a)
    assert.equal("err", b)
    assert.equal(3, c)
    assert.is_nil(cache.get(k2))
  end)

  it("get_or_set lets an error of the callback through, caching nothing", function()
    local k = key("goserr")
    assert.has_error(function()
      cache.get_or_set(k, nil, function() error("boom", 0) end)
    end, "boom")
    assert.is_nil(cache.get(k))
  end)

  it("rawset, rawget and incr work on shared-dict values (0.9)", function()
    local k = key("raw")
    assert.is_true((cache.rawset(k, 0, 60)))
    assert.equal(0, cache.rawget(k))
    local v, err = cache.incr(k, 5)
    assert.equal(5, v)
    assert.is_nil(err)
    assert.equal(5, cache.rawget(k))
    -- shm:incr on a missing key
    v, err = cache.incr(key("missing"), 1)
    assert.is_nil(v)
    assert.equal("not found", err)
    -- get reads a raw value too (0.9's get decoded the same shm)
    assert.equal(5, cache.get(k))
  end)

  it("sh_add, sh_incr with init, sh_get, sh_delete (0.10)", function()
    local k = key("sh")
    assert.is_true((cache.sh_add(k, 1, 60)))
    local ok, err = cache.sh_add(k, 1, 60)
    assert.is_false(ok)
    assert.equal("exists", err)
    assert.equal(3, cache.sh_incr(k, 2))
    local k2 = key("shinit")
    assert.equal(12, cache.sh_incr(k2, 2, 10))
    assert.equal(12, cache.sh_get(k2))
    assert.is_true((cache.sh_set(k2, "s")))
    assert.equal("s", cache.sh_get(k2))
    cache.sh_delete(k2)
    assert.is_nil(cache.sh_get(k2))
  end)

  it("delete also removes a raw value", function()
    local k = key("rawdel")
    cache.rawset(k, 1)
    cache.delete(k)
    assert.is_nil(cache.rawget(k))
  end)

  it("delete_all empties values and raw values", function()
    local k1, k2 = key("all1"), key("all2")
    assert.is_true(cache.set(k1, "v"))
    cache.rawset(k2, 1)
    cache.delete_all()
    assert.is_nil(cache.get(k1))
    assert.is_nil(cache.rawget(k2))
    assert.is_nil(kong.cache:probe(k1))
  end)

  it("builds 0.x's keys", function()
    assert.equal("requests", cache.requests_key())
    assert.equal("autojoin_retries", cache.autojoin_retries_key())
    assert.equal("ALL_APIS_BY_DIC", cache.all_apis_by_dict_key())
    assert.equal("apis:example.com", cache.api_key("example.com"))
    assert.equal("consumers:c1", cache.consumer_key("c1"))
    assert.equal("plugins:key-auth", cache.plugin_key("key-auth"))
    assert.equal("plugins:key-auth:a1", cache.plugin_key("key-auth", "a1"))
    assert.equal("plugins:key-auth:a1:c1", cache.plugin_key("key-auth", "a1", "c1"))
    assert.equal("plugins:key-auth:c1", cache.plugin_key("key-auth", nil, "c1"))
    assert.equal("certificates:example.com", cache.certificate_key("example.com"))
    assert.equal("basicauth_credentials:bob", cache.basicauth_credential_key("bob"))
    assert.equal("hmacauth_credentials:bob", cache.hmacauth_credential_key("bob"))
    assert.equal("keyauth_credentials:k", cache.keyauth_credential_key("k"))
    assert.equal("oauth2_credentials:cid", cache.oauth2_credential_key("cid"))
    assert.equal("oauth2_token:tok", cache.oauth2_token_key("tok"))
    assert.equal("jwtauth_credentials:s", cache.jwtauth_credential_key("s"))
    assert.equal("acls:c1", cache.acls_key("c1"))
    assert.equal("ssl", cache.ssl_data())
    assert.equal("ssl:a1", cache.ssl_data("a1"))
    assert.equal("bot_detection:ua", cache.bot_detection_key("ua"))
    assert.equal("ldap_credentials/bob", cache.ldap_credential_key("bob"))
    assert.equal("ldap_credentials_a1:bob", cache.ldap_credential_key("a1", "bob"))
    assert.equal("upstreams", cache.upstreams_dict_key())
    assert.equal("upstreams:u1", cache.upstream_key("u1"))
    assert.equal("targets:u1", cache.targets_key("u1"))
  end)
end)
