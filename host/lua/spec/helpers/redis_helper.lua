-- spec.helpers.redis_helper (stands in for Kong's
-- spec/helpers/redis_helper.lua): connect(host, port) -> client, version;
-- reset_redis(host, port) (FLUSHALL); add_admin_user, add_basic_user and
-- remove_user (ACL SETUSER / DELUSER), each raising on failure as Kong's.
-- connect's version is the server's redis_version as a comparable value
-- (compared with another such: ==, <, <=; major, minor, patch fields;
-- tostring), standing in for the version rock Kong's answers with.
local redis = require "resty.redis"

local TIMEOUT = 2000

local version_mt = {}
version_mt.__index = version_mt

local function parse_version(s)
  local parts = {}
  for n in tostring(s):gmatch("%d+") do
    parts[#parts + 1] = tonumber(n)
  end
  if #parts == 0 then
    return nil, "not a version: '" .. tostring(s) .. "'"
  end
  return setmetatable({ text = tostring(s), parts = parts,
    major = parts[1], minor = parts[2] or 0, patch = parts[3] or 0 }, version_mt)
end

-- Lua 5.1 compares two tables only when they share the metamethod: a
-- version is compared with a version
local function compare(a, b)
  for i = 1, math.max(#a.parts, #b.parts) do
    local x, y = a.parts[i] or 0, b.parts[i] or 0
    if x ~= y then return x < y and -1 or 1 end
  end
  return 0
end

version_mt.__eq = function(a, b) return compare(a, b) == 0 end
version_mt.__lt = function(a, b) return compare(a, b) < 0 end
version_mt.__le = function(a, b) return compare(a, b) <= 0 end
version_mt.__tostring = function(v) return v.text end

local function connect(host, port)
  local red = redis:new()
  red:set_timeout(TIMEOUT)
  assert(red:connect(host, port))
  local info = assert(red:info())
  local v = info:match("redis_version:([%w%.%-]+)\r?\n")
  return red, assert(parse_version(v))
end

local function reset_redis(host, port)
  local red = connect(host, port)
  red:flushall()
  red:close()
end

local function add_admin_user(red, username, password)
  assert(red:acl("setuser", username, "on", "allkeys", "allcommands", ">" .. password))
end

local function add_basic_user(red, username, password)
  assert(red:acl("setuser", username, "on", "allkeys", "+get", ">" .. password))
end

local function remove_user(red, username)
  assert(red:acl("deluser", username))
end

return {
  connect = connect,
  reset_redis = reset_redis,
  add_admin_user = add_admin_user,
  add_basic_user = add_basic_user,
  remove_user = remove_user,
}
