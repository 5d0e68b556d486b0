-- luahost shim for Kong's `kong.reports` (anonymous usage reports). luahost
-- never reports: every function of Kong's module exists and does nothing
-- (init, init_worker, toggle, send, send_ping, log, admin_gui_log,
-- add_ping_value, add_immutable_value, configure_ping,
-- retrieve_redis_version). Ping values are still kept so get_ping_value
-- answers what add_ping_value / add_immutable_value stored.

local ping_values = {}
local immutable = {}

local function noop() end

local function add_ping_value(k, v)
  ping_values[k] = v
end

return {
  init = noop,
  init_worker = noop,
  toggle = noop,
  send = noop,
  send_ping = noop,
  log = noop,
  admin_gui_log = noop,
  configure_ping = noop,
  add_ping_value = add_ping_value,
  add_immutable_value = function(k, v)
    if immutable[k] == nil then
      immutable[k] = true
      ping_values[k] = v
    end
  end,
  get_ping_value = function(k)
    return ping_values[k]
  end,
  -- Kong asks the Redis server for its version to report it; nothing to do.
  retrieve_redis_version = noop,
}
