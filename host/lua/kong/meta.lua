-- luahost shim for Kong's `kong.meta` (kong/meta.lua).
-- Covers: _NAME, _VERSION, _VERSION_TABLE (major/minor/patch, optional
-- suffix, __tostring), _SERVER_TOKENS, version, _DEPENDENCIES.
-- The version is the host's (pdk.Root.Version, default pdk.DefaultVersion).

local native = require "luahost.native"

local major, minor, patch, suffix = native.version:match("^(%d+)%.(%d+)%.(%d+)(.*)$")

local version = setmetatable({
  major = tonumber(major) or 0,
  minor = tonumber(minor) or 0,
  patch = tonumber(patch) or 0,
  suffix = (suffix ~= nil and suffix ~= "") and suffix or nil,
}, {
  __tostring = function(t)
    return string.format("%d.%d.%d%s", t.major, t.minor, t.patch, t.suffix or "")
  end,
})

return {
  _NAME = "kong",
  _VERSION = tostring(version),
  _VERSION_TABLE = version,
  _SERVER_TOKENS = "kong/" .. tostring(version),
  version = tostring(version),
  _DEPENDENCIES = {
    nginx = { "1.27.1.2" },
  },
}
