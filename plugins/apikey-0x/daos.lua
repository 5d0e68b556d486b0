-- apikey-0x: seed 003's custom entity, as a Kong 0.x plugin wrote it (a map
-- of schemas, fields as a map, type "id"/"timestamp", dao_insert_value,
-- queryable, foreign = "consumers:id", self_check, marshall_event for
-- hooks.lua).
local Errors = require "kong.dao.errors"

local SCHEMA = {
  table = "apikeys",
  primary_key = { "id" },
  fields = {
    id = { type = "id", dao_insert_value = true },
    created_at = { type = "timestamp", dao_insert_value = true },
    consumer_id = { type = "id", required = true, queryable = true, foreign = "consumers:id" },
    apikey = { type = "string", required = false, unique = true, queryable = true,
               regex = "^[A-Za-z0-9_.-]+$" },
  },
  self_check = function(schema, t, dao, is_updating)
    if type(t.apikey) == "string" and #t.apikey > 64 then
      return false, Errors.schema("apikey must be at most 64 characters")
    end
    return true
  end,
  marshall_event = function(self, t)
    return { id = t.id, consumer_id = t.consumer_id, apikey = t.apikey }
  end,
}

return { apikeys = SCHEMA }
