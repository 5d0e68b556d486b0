-- luahost shim for Kong's `kong.tools.database_cache` (Kong 0.5 - 0.10,
-- replaced by kong.cache in 0.11). One module answers plugins of every one
-- of those versions:
--
--   set(key, value[, ttl])      -> true | nil, err
--   get(key)                    -> value
--   delete(key), delete_all()
--   get_or_set(key, ttl, cb, ...)  (0.10) / get_or_set(key, cb[, ttl]) (0.5 - 0.9)
--   rawset/rawget/incr (0.5 - 0.9) and sh_set/sh_add/sh_incr/sh_get/
--   sh_delete/sh_delete_all (0.10): the raw shared-dict values
--   the key helpers of every version (requests_key ... all_apis_by_dict_key)
--
-- Values (set/get/get_or_set) live in kong.cache, the same two-level cache
-- (each worker's L1 in front of the node's L2) 3.x plugins use: a set or a
-- delete is seen by every worker of the node. Raw values (rawset, incr,
-- sh_*) live in ngx.shared.kong_db_cache, as 0.x kept them in its `cache`
-- shm; delete and delete_all clear both.
--
-- Differences from 0.x: get_or_set takes no lock, so two workers missing
-- the same key at once may both run the callback (0.x serialized them with
-- resty.lock; the last value set wins). Like 0.x there is no negative
-- caching and no automatic invalidation: hooks.lua deletes what changed.

local _M = {}

local pack = function(...) return { n = select("#", ...), ... } end
local unpack = unpack or table.unpack

local function cache()
  local kong = rawget(_G, "kong")
  local c = kong and kong.cache
  if not c then
    error("kong.tools.database_cache: kong.cache is not available in this context", 3)
  end
  return c
end

local function shm()
  return ngx.shared.kong_db_cache
end

-- set(key, value[, ttl]): stores value (any Lua value the cache can hold,
-- tables included) for ttl seconds (0 or nil: no expiry). A nil value
-- deletes the key (0.9 passed nil to the shm, which deletes).
function _M.set(key, value, ttl)
  local c = cache()
  c:invalidate_local(key)
  if value == nil then
    return true
  end
  local _, err = c:get(key, { ttl = ttl or 0 }, function() return value end)
  if err then
    return nil, err
  end
  return true
end

-- get(key): the value set under key (nil when absent or expired); falls
-- back to a raw value (0.9's get read the same shm as rawget).
function _M.get(key)
  local v = cache():get(key)
  if v ~= nil then
    return v
  end
  return (shm():get(key))
end

-- delete(key): from every worker of this node, values and raw values.
function _M.delete(key)
  cache():invalidate_local(key)
  shm():delete(key)
end

function _M.delete_all()
  cache():purge()
  local d = shm()
  d:flush_all()
  d:flush_expired()
end

-- get_or_set: the cached value, else the callback's. A non-nil first
-- result is cached (for ttl seconds in the 0.10 form) and returned alone;
-- otherwise every result of the callback is returned, so `nil, err`
-- reaches the caller. 0.9 cached only a truthy result. An error raised by
-- the callback (or a response it sends) passes through, as in 0.x.
function _M.get_or_set(key, a, b, ...)
  local value = _M.get(key)
  if value ~= nil then
    return value
  end
  local res
  if type(a) == "function" then
    -- 0.5 - 0.9: get_or_set(key, cb[, exptime]); cb is called with no argument
    res = pack(a())
    if res[1] then
      local ok, err = _M.set(key, res[1], b)
      if not ok then
        ngx.log(ngx.ERR, err)
      end
      return res[1]
    end
    return unpack(res, 1, res.n)
  end
  -- 0.10: get_or_set(key, ttl, cb, ...)
  res = pack(b(...))
  if res[1] ~= nil then
    local ok, err = _M.set(key, res[1], a)
    if not ok then
      ngx.log(ngx.ERR, err)
    end
    return res[1]
  end
  return unpack(res, 1, res.n)
end

-- Raw values: ngx.shared.DICT's own results (ok, err, forcible; value,
-- flags; newval, err).

function _M.rawset(key, value, exptime)
  return shm():set(key, value, exptime or 0)
end

function _M.rawget(key)
  return shm():get(key)
end

function _M.incr(key, value)
  return shm():incr(key, value)
end

_M.sh_set = _M.rawset
_M.sh_get = _M.rawget

function _M.sh_add(key, value, exptime)
  return shm():add(key, value, exptime)
end

function _M.sh_incr(key, value, init)
  return shm():incr(key, value, init)
end

function _M.sh_delete(key)
  shm():delete(key)
end

function _M.sh_delete_all()
  local d = shm()
  d:flush_all()
  d:flush_expired()
end

-- Key helpers: "<prefix>:<value>".

local function prefixed(prefix)
  return function(v)
    return prefix .. ":" .. v
  end
end

function _M.requests_key() return "requests" end
function _M.autojoin_retries_key() return "autojoin_retries" end
function _M.all_apis_by_dict_key() return "ALL_APIS_BY_DIC" end
function _M.upstreams_dict_key() return "upstreams" end

_M.api_key = prefixed("apis")
_M.consumer_key = prefixed("consumers")
_M.certificate_key = prefixed("certificates")
_M.basicauth_credential_key = prefixed("basicauth_credentials")
_M.hmacauth_credential_key = prefixed("hmacauth_credentials")
_M.keyauth_credential_key = prefixed("keyauth_credentials")
_M.oauth2_credential_key = prefixed("oauth2_credentials")
_M.jwtauth_credential_key = prefixed("jwtauth_credentials")
_M.oauth2_token_key = prefixed("oauth2_token")
_M.acls_key = prefixed("acls")
_M.bot_detection_key = prefixed("bot_detection")
_M.upstream_key = prefixed("upstreams")
_M.targets_key = prefixed("targets")

-- plugins:<name>[:<api_id>][:<consumer_id>]
function _M.plugin_key(name, api_id, consumer_id)
  return "plugins:" .. name .. (api_id and ":" .. api_id or "") .. (consumer_id and ":" .. consumer_id or "")
end

-- ssl[:<api_id>]
function _M.ssl_data(api_id)
  return "ssl" .. (api_id and ":" .. api_id or "")
end

-- 0.8 - 0.9: ldap_credential_key(username) is "ldap_credentials/<username>";
-- 0.10: ldap_credential_key(api_id, username) is
-- "ldap_credentials_<api_id>:<username>".
function _M.ldap_credential_key(...)
  if select("#", ...) >= 2 then
    local api_id, username = ...
    return "ldap_credentials_" .. api_id .. ":" .. username
  end
  return "ldap_credentials/" .. (...)
end

return _M
