-- luahost shim for Kong's `kong.core.events` (Kong 0.6 - 0.10): an Events
-- class (kong.vendor.classic) with TYPES, subscribe(name, fn) and
-- publish(name, message_t), publish upper-casing the name. Subscribers of a
-- name run in the order they subscribed; an error in one is logged and the
-- others still run (0.x's mediator went on as long as each returned).
-- In luahost the DAO's writes reach plugins' hooks.lua through
-- luahost.legacy_hooks; the MEMBER-* events (Serf) never fire.

local Object = require "kong.vendor.classic"

local Events = Object:extend()

Events.TYPES = {
  CLUSTER_PROPAGATE = "CLUSTER_PROPAGATE",
  ENTITY_CREATED = "ENTITY_CREATED",
  ENTITY_UPDATED = "ENTITY_UPDATED",
  ENTITY_DELETED = "ENTITY_DELETED",
  ["MEMBER-JOIN"] = "MEMBER-JOIN",
  ["MEMBER-LEAVE"] = "MEMBER-LEAVE",
  ["MEMBER-FAILED"] = "MEMBER-FAILED",
  ["MEMBER-UPDATE"] = "MEMBER-UPDATE",
  ["MEMBER-REAP"] = "MEMBER-REAP",
}

function Events:new()
  self._subscribers = {}
end

-- subscribe(name, fn): fn(message_t) runs on every publish of name; a nil
-- fn is ignored.
function Events:subscribe(event_name, fn)
  if fn then
    local list = self._subscribers[event_name]
    if not list then
      list = {}
      self._subscribers[event_name] = list
    end
    list[#list + 1] = fn
  end
end

function Events:publish(event_name, message_t)
  if not event_name then
    return
  end
  local list = self._subscribers[string.upper(event_name)]
  if not list then
    return
  end
  for i = 1, #list do
    local ok, err = pcall(list[i], message_t)
    if not ok then
      ngx.log(ngx.ERR, "[events] ", string.upper(event_name), " subscriber failed: ", tostring(err))
    end
  end
end

return Events
