-- a Kong 0.10 plugin: BasePlugin, database_cache, the old DAO
local BasePlugin = require "kong.plugins.base_plugin"
local cache = require "kong.tools.database_cache"
local singletons = require "kong.singletons"

local Oldie = BasePlugin:extend()
Oldie.PRIORITY = 5

function Oldie:new()
  Oldie.super.new(self, "oldie")
end

function Oldie:access(conf)
  Oldie.super.access(self)
  local key = cache.get_or_set("oldie:" .. conf.key, function()
    local rows = singletons.dao.oldies:find_all { key = conf.key }
    return rows[1]
  end)
  ngx.ctx.oldie = key
end

return Oldie
