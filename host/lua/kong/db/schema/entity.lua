-- kong.db.schema.entity: stands in for Kong's kong/db/schema/entity.lua.
--
-- Entity.new(definition) is Schema.new with the entity rules: no nilable
-- or function fields, map keys must be strings, and record fields become
-- required unless the definition says otherwise. Entity.new_subschema adds
-- a subschema (a plugin's config schema) to an entity with subschema_key.
-- Backed by luahost's schema engine (module luahost.schema).

local core = require "luahost.schema"

local Entity = {}

function Entity.new(definition)
  return core.new(definition, true)
end

function Entity.new_subschema(schema, key, definition)
  return schema:new_subschema(key, definition)
end

return Entity
