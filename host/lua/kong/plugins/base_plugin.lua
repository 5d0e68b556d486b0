-- luahost shim for Kong's `kong.plugins.base_plugin` (Kong <= 2.8; removed
-- in 3.0). Covers the 2.x surface: BasePlugin is a kong.vendor.classic
-- class; new(name) stores self._name; every phase method only logs
-- `executing plugin "<name>": <phase>` at DEBUG. Plugins subclass it with
-- BasePlugin:extend() and call MyPlugin.super.access(self) from their phases.

local Object = require "kong.vendor.classic"

local BasePlugin = Object:extend()

local ngx_log = ngx.log
local DEBUG = ngx.DEBUG
local subsystem = ngx.config.subsystem

function BasePlugin:new(name)
  self._name = name
end

-- phase methods are spelled out (no shared vararg closure) so that calling
-- them costs a plain Lua call
function BasePlugin:init_worker()
  ngx_log(DEBUG, "executing plugin \"", self._name, "\": init_worker")
end

function BasePlugin:certificate()
  ngx_log(DEBUG, "executing plugin \"", self._name, "\": certificate")
end

if subsystem == "http" then
  function BasePlugin:rewrite()
    ngx_log(DEBUG, "executing plugin \"", self._name, "\": rewrite")
  end

  function BasePlugin:access()
    ngx_log(DEBUG, "executing plugin \"", self._name, "\": access")
  end

  function BasePlugin:response()
    ngx_log(DEBUG, "executing plugin \"", self._name, "\": response")
  end

  function BasePlugin:header_filter()
    ngx_log(DEBUG, "executing plugin \"", self._name, "\": header_filter")
  end

  function BasePlugin:body_filter()
    ngx_log(DEBUG, "executing plugin \"", self._name, "\": body_filter")
  end
else
  function BasePlugin:preread()
    ngx_log(DEBUG, "executing plugin \"", self._name, "\": preread")
  end
end

function BasePlugin:log()
  ngx_log(DEBUG, "executing plugin \"", self._name, "\": log")
end

-- The 0.x DAO factory (kong.dao.legacy) as self.dao, and as the `dao`
-- global 0.5 - 0.7 handlers used (seed 003: dao.apikeys:find_by_keys).
BasePlugin.dao = require "kong.dao.legacy"
if rawget(_G, "dao") == nil then
  rawset(_G, "dao", BasePlugin.dao)
end

return BasePlugin
