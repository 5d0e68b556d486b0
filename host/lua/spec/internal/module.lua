-- spec.internal.module (Kong 3.x): reload(name) requires a module afresh;
-- reload_helpers(flavor) is spec.helpers afresh for a router flavor.
-- luahost's router is Kong's traditional_compatible one, which also
-- answers as "traditional" does for Kong's specs; "expressions" is refused
-- with the reason. Unlike Kong's, the kong global is left alone (in
-- luahost it is the PDK the spec's nodes share).

local function reload(name)
  package.loaded[name] = nil
  return require(name)
end

local FLAVORS = { traditional = true, traditional_compatible = true }

local function reload_helpers(flavor)
  if flavor ~= nil and not FLAVORS[flavor] then
    error("spec.internal.module: router_flavor '" .. tostring(flavor) .. "' not supported by luahost: "
      .. "its router is Kong's traditional_compatible (traditional answers the same)", 2)
  end
  local helpers = require "spec.helpers"
  helpers.setenv("KONG_ROUTER_FLAVOR", flavor)
  local ok, fresh = pcall(reload, "spec.helpers")
  helpers.unsetenv("KONG_ROUTER_FLAVOR")
  if not ok then
    error(fresh, 0)
  end
  return fresh
end

return {
  reload = reload,
  reload_helpers = reload_helpers,
}
