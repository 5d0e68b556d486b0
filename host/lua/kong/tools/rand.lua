-- luahost shim for Kong's `kong.tools.rand` (3.x; in kong.tools.utils in
-- 2.x). Covers: get_rand_bytes(n) (crypto/rand through luahost.native),
-- random_string() (32 characters from 24 random bytes, base64 with "/", "+"
-- and "=" replaced by alphanumerics, as Kong does).

local native = require "luahost.native"

local char = string.char
local random = math.random

local _M = {}

function _M.get_rand_bytes(n)
  return native.random_bytes(n)
end

function _M.random_string()
  local s = ngx.encode_base64(native.random_bytes(24))
  s = s:gsub("/", char(random(48, 57)))
  s = s:gsub("%+", char(random(65, 90)))
  s = s:gsub("=", char(random(97, 122)))
  return s
end

return _M
