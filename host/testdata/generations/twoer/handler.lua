-- a Kong 2.x plugin: BasePlugin, kong.singletons, no VERSION
local BasePlugin = require "kong.plugins.base_plugin"
local singletons = require "kong.singletons"

local Twoer = BasePlugin:extend()
Twoer.PRIORITY = 6

function Twoer:new()
  Twoer.super.new(self, "twoer")
end

function Twoer:access(conf)
  Twoer.super.access(self)
  kong.response.set_header("X-Twoer", tostring(singletons.configuration ~= nil))
end

return Twoer
