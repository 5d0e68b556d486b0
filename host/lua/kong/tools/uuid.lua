-- luahost shim for Kong's `kong.tools.uuid` (3.x; in kong.tools.utils in
-- 2.x). Covers: uuid (random v4), is_valid_uuid (any 8-4-4-4-12 hex
-- string, case-insensitive, as Kong's lenient check).

local native = require "luahost.native"

local _M = {}

_M.uuid = native.uuid

local pattern = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"

function _M.is_valid_uuid(s)
  if type(s) ~= "string" or #s ~= 36 then
    return false
  end
  return s:find(pattern) ~= nil
end

return _M
