-- Stands in for kong.singletons (Kong ≤ 2.8, removed in 3.0): a table whose
-- fields are the live objects of the `kong` global (db, cache, core_cache,
-- worker_events, cluster_events, configuration, dns), so 1.x/2.x plugins
-- that read singletons.db or singletons.cache keep working.
local singletons = {}

local aliases = {
  dao = "db",
  loaded_plugins = "configuration",
}

return setmetatable(singletons, {
  __index = function(_, k)
    local kong = rawget(_G, "kong")
    if not kong then
      return nil
    end
    if k == "loaded_plugins" then
      return kong.configuration and kong.configuration.loaded_plugins
    end
    return kong[aliases[k] or k]
  end,
})
