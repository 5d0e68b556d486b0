-- luahost shim for OpenResty's `resty.lrucache.pureffi`. Covers the same API
-- as resty.lrucache (new(size, load_factor) ignores load_factor): it is the
-- same implementation, luahost has no FFI.
local lrucache = require "resty.lrucache"

local _M = {}
for k, v in pairs(lrucache) do
  _M[k] = v
end

function _M.new(size, _load_factor)
  return lrucache.new(size)
end

return _M
