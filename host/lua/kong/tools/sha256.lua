-- luahost shim for Kong's `kong.tools.sha256` (3.x). Covers: sha256_bin,
-- sha256_hex, sha256_base64, sha256_base64url (Go's crypto/sha256).

local native = require "luahost.native"

local fmt = string.format
local byte = string.byte

local function hex(s)
  return (s:gsub(".", function(c) return fmt("%02x", byte(c)) end))
end

local function base64url(s)
  return (ngx.encode_base64(s, true):gsub("[+/]", { ["+"] = "-", ["/"] = "_" }))
end

return {
  sha256_bin = native.sha256,
  sha256_hex = function(key) return hex(native.sha256(key)) end,
  sha256_base64 = function(key) return ngx.encode_base64(native.sha256(key)) end,
  sha256_base64url = function(key) return base64url(native.sha256(key)) end,
}
