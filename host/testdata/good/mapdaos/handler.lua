local BasePlugin = require "kong.plugins.base_plugin"

local MapDaos = BasePlugin:extend()

function MapDaos:new()
  MapDaos.super.new(self, "mapdaos")
end

function MapDaos:access(conf)
  MapDaos.super.access(self)
end

return MapDaos
