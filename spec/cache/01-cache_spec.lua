-- kong.cache / kong.core_cache (KONG-REFERENCE §6.2): get with hit levels,
-- negative caching, callback errors, ttl override, probe, safe_set,
-- invalidate, purge, get_bulk, renew.
describe("kong.cache", function()
  if not kong.cache then
    pending("kong.cache is not installed in this host's workers (pdk.OpenCache)")
    return
  end

  local calls
  local function load(v, err, ttl)
    calls = calls + 1
    return v, err, ttl
  end

  before_each(function()
    calls = 0
  end)

  it("returns nil, nil, -1 for a miss without callback", function()
    local v, err, hit = kong.cache:get("spec:absent")
    assert.is_nil(v)
    assert.is_nil(err)
    assert.equal(-1, hit)
  end)

  it("runs the callback once, then serves the same table from L1", function()
    local t = { id = "a1" }
    local v, err, hit = kong.cache:get("spec:l1", nil, load, t)
    assert.equal(t, v)
    assert.is_nil(err)
    assert.equal(3, hit)
    v, err, hit = kong.cache:get("spec:l1", nil, load, { id = "other" })
    assert.equal(t, v)
    assert.equal(1, hit)
    assert.equal(1, calls)
  end)

  it("reads L2 values as fresh copies (hit level 2)", function()
    assert.is_true(kong.cache:safe_set("spec:l2", { list = { 1, 2 }, null = ngx.null }))
    local v, err, hit = kong.cache:get("spec:l2", nil, load, "not used")
    assert.same({ list = { 1, 2 }, null = ngx.null }, v)
    assert.equal(2, hit)
    assert.equal(0, calls)
  end)

  it("caches a nil result as a negative entry", function()
    local v, err, hit = kong.cache:get("spec:neg", nil, load, nil)
    assert.is_nil(v)
    assert.is_nil(err)
    assert.equal(3, hit)
    v, err, hit = kong.cache:get("spec:neg", nil, load, "now there")
    assert.is_nil(v)
    assert.equal(1, hit)
    assert.equal(1, calls)
    local ttl, perr, pv = kong.cache:probe("spec:neg")
    assert.is_number(ttl)
    assert.is_nil(perr)
    assert.is_nil(pv)
  end)

  it("returns a callback's error without caching anything", function()
    local v, err = kong.cache:get("spec:err", nil, load, nil, "db unreachable")
    assert.is_nil(v)
    assert.equal("failed to get from node cache: db unreachable", err)
    assert.is_nil(kong.cache:probe("spec:err"))
    v, err = kong.cache:get("spec:err", nil, load, "fine")
    assert.equal("fine", v)
    assert.equal(2, calls)
  end)

  it("catches an error thrown by the callback", function()
    local v, err = kong.cache:get("spec:throw", nil, function() error("boom") end)
    assert.is_nil(v)
    assert.matches("^failed to get from node cache: callback threw an error: .*boom", err)
  end)

  it("lets the callback's third value override the ttl", function()
    kong.cache:get("spec:ttl", nil, load, "v", nil, 42)
    local ttl, err, v = kong.cache:probe("spec:ttl")
    assert.truthy(ttl > 41 and ttl <= 42, "remaining ttl " .. tostring(ttl))
    assert.equal("v", v)
    -- a negative ttl returns the value without caching it
    v = kong.cache:get("spec:nocache", nil, load, "w", nil, -1)
    assert.equal("w", v)
    assert.is_nil(kong.cache:probe("spec:nocache"))
  end)

  it("raises on bad arguments", function()
    assert.has_error(function() kong.cache:get(1) end, "key must be a string")
    assert.has_error(function() kong.cache:get("k", nil, "cb") end, "callback must be nil or a function")
    assert.has_error(function() kong.cache:get("spec:opts", { ttl = -1 }, load) end, "opts.ttl must be >= 0")
    assert.has_error(function()
      kong.cache:get("spec:fn", nil, function() return function() end end)
    end, "cannot cache value of type function")
  end)

  it("invalidates a key in L1 and L2", function()
    kong.cache:get("spec:inval", nil, load, "old")
    kong.cache:invalidate("spec:inval")
    assert.is_nil(kong.cache:probe("spec:inval"))
    local v, _, hit = kong.cache:get("spec:inval", nil, load, "new")
    assert.equal("new", v)
    assert.equal(3, hit)
    kong.cache:invalidate_local("spec:inval")
    v, _, hit = kong.cache:get("spec:inval", nil, load, "newer")
    assert.equal("newer", v)
    assert.equal(3, hit)
  end)

  it("keeps kong.cache and kong.core_cache apart", function()
    kong.core_cache:get("spec:both", nil, load, "core")
    kong.cache:get("spec:both", nil, load, "plugin")
    kong.cache:invalidate("spec:both")
    local v, _, hit = kong.core_cache:get("spec:both", nil, load, "x")
    assert.equal("core", v)
    assert.equal(1, hit)
  end)

  it("purges everything", function()
    kong.cache:get("spec:purge", nil, load, "v")
    kong.cache:purge()
    assert.is_nil(kong.cache:probe("spec:purge"))
    local _, _, hit = kong.cache:get("spec:purge", nil, load, "v")
    assert.equal(3, hit)
  end)

  it("gets in bulk", function()
    local mlcache = require "kong.resty.mlcache"
    kong.cache:get("spec:bulk1", nil, load, "one")
    local bulk = mlcache.new_bulk(2)
    bulk:add("spec:bulk1", nil, load, "x")
    bulk:add("spec:bulk2", nil, load, "two")
    local res = assert(kong.cache:get_bulk(bulk))
    local got = {}
    for i, data, err, hit in mlcache.each_bulk_res(res) do
      got[i] = data .. ":" .. hit
    end
    assert.same({ "one:1", "two:3" }, got)
  end)

  it("renews a key", function()
    kong.cache:get("spec:renew", nil, load, "v1")
    local v, err, ttl = kong.cache:renew("spec:renew", nil, load, "v2", nil, 9)
    assert.equal("v2", v)
    assert.is_nil(err)
    assert.equal(9, ttl)
    local got, _, hit = kong.cache:get("spec:renew", nil, load, "v3")
    assert.equal("v2", got)
    assert.equal(1, hit)
  end)
end)
