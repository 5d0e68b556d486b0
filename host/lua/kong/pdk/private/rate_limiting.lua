-- luahost shim for Kong's `kong.pdk.private.rate_limiting` (3.x). Covers:
-- store_response_header(ngx_ctx, key, value),
-- get_stored_response_header(ngx_ctx, key) and
-- apply_response_headers(ngx_ctx) (copies the stored pairs into
-- ngx.header, values tostring'd), with Kong's argument errors. The pairs
-- live in ngx_ctx.__rate_limiting_context__, as in Kong.

local type = type
local pairs = pairs
local tostring = tostring
local error = error
local format = string.format

local CTX_KEY = "__rate_limiting_context__"

local _M = {}

local function check_key(key, fname)
  if type(key) ~= "string" then
    error(format("arg #2 `key` for function `%s` must be a string, got %s", fname, type(key)), 3)
  end
end

local function check_value(value, fname)
  local t = type(value)
  if t ~= "number" and t ~= "string" then
    error(format("arg #3 `value` for function `%s` must be a string or a number, got %s", fname, t), 3)
  end
end

function _M.store_response_header(ngx_ctx, key, value)
  check_key(key, "store_response_header")
  check_value(value, "store_response_header")
  local store = ngx_ctx[CTX_KEY]
  if store == nil then
    store = {}
    ngx_ctx[CTX_KEY] = store
  end
  store[key] = value
end

function _M.get_stored_response_header(ngx_ctx, key)
  check_key(key, "get_stored_response_header")
  local store = ngx_ctx[CTX_KEY]
  return store and store[key]
end

function _M.apply_response_headers(ngx_ctx)
  local store = ngx_ctx[CTX_KEY]
  if store == nil then
    return
  end
  local header = ngx.header
  for k, v in pairs(store) do
    header[k] = tostring(v)
  end
end

return _M
