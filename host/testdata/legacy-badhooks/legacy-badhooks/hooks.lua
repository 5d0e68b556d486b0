-- a hooks.lua that fails while it loads
local events = require "kong.core.events"
error("hooks exploded")
