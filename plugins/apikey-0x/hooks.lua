-- apikey-0x: seed 003's invalidation hooks. A credential is cached under
-- "apikeys.<apikey>"; an update drops the old key, a delete the deleted one.
local events = require "kong.core.events"
local cache = require "kong.tools.database_cache"

local function invalidate(entity)
  if entity and entity.apikey then
    cache.delete("apikeys." .. entity.apikey)
  end
end

return {
  [events.TYPES.ENTITY_UPDATED] = function(message_t)
    if message_t.collection == "apikeys" then
      invalidate(message_t.old_entity)
    end
  end,
  [events.TYPES.ENTITY_DELETED] = function(message_t)
    if message_t.collection == "apikeys" then
      invalidate(message_t.entity)
    end
  end,
}
