-- luahost shim for Kong's `kong.tools.http` (3.x). Covers: CONTENT_TYPES,
-- encode_args(args, raw, no_array_indexes), decode_args, check_https,
-- validate_http_token, validate_header_name, validate_cookie_name,
-- parse_directive_header, calculate_resource_ttl. Not covered:
-- get_default_exit_body, get_response_type, get_mime_type,
-- get_error_template, get_header.

local url = require "socket.url"
local native = require "luahost.native"

local type = type
local pairs = pairs
local ipairs = ipairs
local tostring = tostring
local tonumber = tonumber
local sort = table.sort
local concat = table.concat
local lower = string.lower
local find = string.find
local match = string.match
local gmatch = string.gmatch
local max = math.max

local EMPTY = require("kong.tools.table").EMPTY

local _M = {}

_M.CONTENT_TYPES = {
  CONTENT_TYPE = "Content-Type",
  CONTENT_TYPE_POST = "application/x-www-form-urlencoded",
  CONTENT_TYPE_JSON = "application/json",
  CONTENT_TYPE_FORM_DATA = "multipart/form-data",
}

local function pair(key, value, raw)
  if not raw then
    key = url.escape(key)
  end
  if value == nil then
    return key
  end
  if not raw then
    value = url.escape(value)
  end
  -- Kong's string.format("%s=%s"): a raw nested true or 5 is written as
  -- a word or a number (the spec client's form bodies)
  return tostring(key) .. "=" .. tostring(value)
end

-- Number keys sort first (numerically), then the others.
local function key_order(a, b)
  local ta, tb = type(a), type(b)
  if ta == tb then
    return a < b
  end
  return ta == "number"
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do
    keys[#keys + 1] = k
  end
  sort(keys, key_order)
  return keys
end

local function encode_nested(prefix, t, raw, no_index, out)
  for _, k in ipairs(sorted_keys(t)) do
    local v = t[k]
    local name
    if type(k) == "number" then
      name = no_index and (prefix .. "[]") or (prefix .. "[" .. tostring(k) .. "]")
    else
      name = prefix .. "." .. tostring(k)
    end
    if type(v) == "table" then
      encode_nested(name, v, raw, no_index, out)
    else
      out[#out + 1] = pair(name, v, raw)
    end
  end
end

--- encode_args(args, raw, no_array_indexes): a query string (no "?"):
-- keys sorted, values percent-escaped unless raw, nested tables as
-- a[1] / a[] / a.b, ngx.null as an empty value, true/false as words, an
-- empty string as the bare key.
function _M.encode_args(args, raw, no_array_indexes)
  local out = {}
  for _, k in ipairs(sorted_keys(args)) do
    local v = args[k]
    if type(v) == "table" then
      encode_nested(k, v, raw, no_array_indexes, out)
    elseif v == ngx.null then
      out[#out + 1] = pair(k, "")
    elseif v ~= nil or raw then
      v = tostring(v)
      if v ~= "" then
        out[#out + 1] = pair(k, v, raw)
      else
        out[#out + 1] = k
      end
    end
  end
  return concat(out, "&")
end

-- {["1"] = a, ["2"] = b} (or {a, b}) -> {a, b}; nil unless the keys are
-- exactly 1..n.
local function as_array(t)
  local nums = {}
  for k in pairs(t) do
    local n = tonumber(k)
    if not n then
      return nil
    end
    nums[#nums + 1] = n
  end
  sort(nums)
  local arr = {}
  for i = 1, #nums do
    if nums[i] ~= i then
      return nil
    end
    local v = t[tostring(i)]
    if v == nil then
      v = t[i]
    end
    arr[i] = v
  end
  return arr
end

--- decode_args(args): "" -> ngx.null, "true"/"false" -> booleans,
-- array-like tables with string indexes -> arrays.
function _M.decode_args(args)
  local out = {}
  for k, v in pairs(args) do
    if type(v) == "table" then
      v = as_array(v) or v
    elseif v == "" then
      v = ngx.null
    elseif v == "true" then
      v = true
    elseif v == "false" then
      v = false
    end
    out[k] = v
  end
  return out
end

--- check_https(trusted_ip, allow_terminated): whether the request is (or,
-- from a trusted client with allow_terminated, was) https; nil and an
-- error when X-Forwarded-Proto has several values.
function _M.check_https(trusted_ip, allow_terminated)
  if lower(ngx.var.scheme) == "https" then
    return true
  end
  if not allow_terminated or not trusted_ip then
    return false
  end
  local proto = ngx.var.http_x_forwarded_proto
  if not proto then
    return false
  end
  if find(proto, ",", 1, true) then
    return nil, "Only one X-Forwarded-Proto header allowed"
  end
  return lower(proto) == "https"
end

--- validate_http_token(token): the token, or nil and an error when it is
-- empty or holds a control, non-ASCII, space or separator character (the
-- rule is kongdb/schema's ValidateHTTPToken, through luahost.native).
_M.validate_http_token = native.validate_http_token

--- validate_header_name(name): the name, or nil and an error unless it is
-- made of A-Z, a-z, 0-9, '_' and '-' (kongdb/schema's ValidateName).
function _M.validate_header_name(name)
  return native.validate_name("header", name)
end

_M.validate_cookie_name = _M.validate_http_token

--- parse_directive_header(h): "public, max-age=60" -> {public = true,
-- ["max-age"] = 60} (names lowercased; numeric values as numbers). A
-- table of header values is joined with ", "; nil gives an empty table.
function _M.parse_directive_header(h)
  if not h then
    return EMPTY
  end
  if type(h) == "table" then
    h = concat(h, ", ")
  end
  local t = {}
  for item in gmatch(h, "[^,]+") do
    local name, value = match(item, "^%s*([^=]+)=(.+)$")
    if not name then
      name = match(item, "^%s*([^=]+)")
    end
    if name then
      t[lower(name)] = tonumber(value) or value or true
    end
  end
  return t
end

--- calculate_resource_ttl(cc): s-maxage, else max-age, else the response's
-- Expires minus now; never below 0.
function _M.calculate_resource_ttl(cc)
  local ttl = cc and (cc["s-maxage"] or cc["max-age"])
  if not ttl then
    local expires = ngx.var.sent_http_expires
    if type(expires) == "table" then
      expires = expires[#expires]
    end
    local at = ngx.parse_http_time(tostring(expires))
    if at then
      ttl = at - ngx.time()
    end
  end
  return ttl and max(ttl, 0) or 0
end

return _M
