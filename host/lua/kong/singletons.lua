-- Stands in for kong.singletons (Kong ≤ 2.8, removed in 3.0): a table whose
-- fields are the live objects of the `kong` global (db, cache, core_cache,
-- worker_events, cluster_events, configuration, dns), so 1.x/2.x plugins
-- that read singletons.db or singletons.cache keep working; singletons.dao
-- is the 0.x DAO factory (kong.dao.legacy) over the same kong.db.
local singletons = {}

local aliases = {
  loaded_plugins = "configuration",
}

return setmetatable(singletons, {
  __index = function(_, k)
    local kong = rawget(_G, "kong")
    if not kong then
      return nil
    end
    if k == "dao" then
      -- Kong <= 1.5's old DAO factory (find_all, find_page, ...)
      return require "kong.dao.legacy"
    end
    if k == "loaded_plugins" then
      return kong.configuration and kong.configuration.loaded_plugins
    end
    return kong[aliases[k] or k]
  end,
})
