-- luahost shim for Kong's `kong.tools.gzip` (3.x). Covers: deflate_gzip,
-- inflate_gzip (Go's compress/gzip through luahost.native).

local native = require "luahost.native"

return {
  deflate_gzip = native.deflate_gzip,
  inflate_gzip = native.inflate_gzip,
}
