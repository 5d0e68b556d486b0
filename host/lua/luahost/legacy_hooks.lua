-- luahost's bridge from the DAO's "crud" worker events to 0.x plugins'
-- hooks.lua (Kong <= 0.10, KONG-REFERENCE §9.4, seed 003): every enabled
-- plugin's `kong.plugins.<name>.hooks` table maps a kong.core.events TYPE
-- to a handler; a DAO write calls the handlers of its type with
--
--   message_t = { collection = <table>, type = ENTITY_*, primary_key = {...},
--                 entity = ..., old_entity = ... (updates only) }
--
-- after CLUSTER_PROPAGATE's { collection, primary_key, type, entity }.
--
-- As in 0.x the entity sent is what the schema's marshall_event(self, row)
-- returns, {} when the schema has none; for an update, old_entity is the
-- marshalled old row and entity the row as it is now (0.x's receiving node
-- reloaded it). A marshalled event over 512 bytes (0.x's UDP budget, which
-- would have lost it) is delivered all the same, with a warning naming the
-- plugin and the entity.
--
-- The handlers run in the worker that receives the "crud" event, once per
-- node; database_cache.delete acts on every worker of the node. The
-- CLUSTER_PROPAGATE payload also goes to the other nodes through
-- kong.cluster_events (channel "luahost:legacy_hooks", where 0.x used
-- Serf), whose hooks receive the event once each (received()).

local Events = require "kong.core.events"
local utils = require "kong.tools.utils"
local cjson = require "cjson.safe"

local TYPES = Events.TYPES
local MAX_EVENT_SIZE = 512
-- the cluster_events channel carrying CLUSTER_PROPAGATE to other nodes
local CHANNEL = "luahost:legacy_hooks"

local _M = {}

local TYPE_OF = {
  create = TYPES.ENTITY_CREATED,
  update = TYPES.ENTITY_UPDATED,
  delete = TYPES.ENTITY_DELETED,
}

-- legacy_schemas(name): table name -> { marshall_event, plugin } from a
-- map-form daos.lua (0.x: { <dao> = { table = ..., marshall_event = ... } }).
local function legacy_schemas(name, into)
  local ok, loaded, mod = pcall(utils.load_module_if_exists, "kong.plugins." .. name .. ".daos")
  if not ok or not loaded or type(mod) ~= "table" then
    return
  end
  local map = mod.tables or mod
  for dao_name, schema in pairs(map) do
    if type(dao_name) == "string" and type(schema) == "table" then
      into[schema.table or schema.name or dao_name] = { schema = schema, plugin = name }
    end
  end
end

local function marshall(info, row)
  if not info or type(info.schema.marshall_event) ~= "function" or type(row) ~= "table" then
    return {}
  end
  local t = info.schema.marshall_event(info.schema, row)
  if type(t) ~= "table" then
    return {}
  end
  return t
end

-- message(data, schemas): the 0.x message_t of a 3.x "crud" event's data,
-- and the CLUSTER_PROPAGATE message 0.x's DAO published for it
-- { collection, primary_key, type, entity = marshalled row }.
function _M.message(data, schemas)
  local schema = data.schema or {}
  local collection = schema.table or schema.name
  local typ = TYPE_OF[data.operation]
  if not collection or not typ then
    return nil
  end
  local info = schemas[collection]
  if info and type(info.schema.fields) == "table" and info.schema.fields[1] == nil then
    -- a 0.x schema (fields as a map): its hooks see 0.x rows, as its DAO
    -- returns them (consumer_id, timestamps in ms)
    local dao = require("kong.dao.legacy")[collection]
    if dao then
      data = { schema = data.schema, operation = data.operation,
               entity = dao:to_old(data.entity), old_entity = dao:to_old(data.old_entity) }
    end
  end
  local m = {
    collection = collection,
    type = typ,
    primary_key = (info and info.schema.primary_key) or schema.primary_key,
  }
  local sent
  if typ == TYPES.ENTITY_UPDATED then
    sent = marshall(info, data.old_entity or data.entity)
    m.old_entity = sent
    m.entity = data.entity
  else
    sent = marshall(info, data.entity)
    m.entity = sent
  end
  local propagate = { collection = collection, primary_key = m.primary_key, type = typ, entity = sent }
  local payload = cjson.encode(propagate)
  if payload and #payload > MAX_EVENT_SIZE then
    ngx.log(ngx.WARN, "[", info and info.plugin or "core", "] ", typ, " event of '", collection,
            "' is ", #payload, " bytes once marshalled, over Kong 0.x's ", MAX_EVENT_SIZE,
            "-byte limit (0.x would have lost it); delivered all the same")
  end
  return m, propagate
end

-- register(plugin_names): subscribes every plugin's hooks.lua to a new
-- Events (kong.singletons.events) fed by the "crud" worker events; returns
-- the Events, or nil when no plugin has hooks.
function _M.register(plugin_names)
  local events = Events()
  local schemas = {}
  local any = false
  for _, name in ipairs(plugin_names) do
    local ok, hooks = utils.load_module_if_exists("kong.plugins." .. name .. ".hooks")
    if ok and type(hooks) == "table" then
      for typ, fn in pairs(hooks) do
        if type(fn) == "function" then
          events:subscribe(typ, fn)
          any = true
        end
      end
    end
    legacy_schemas(name, schemas)
  end
  rawset(require("kong.singletons"), "events", events)
  if not any then
    return nil
  end
  local cluster = kong.cluster_events
  kong.worker_events.register(function(data, event)
    if type(data) ~= "table" or (type(event) == "string" and event:find(":", 1, true)) then
      return
    end
    local m, propagate = _M.message(data, schemas)
    if m then
      -- 0.x: the DAO published CLUSTER_PROPAGATE (what Serf would carry),
      -- then every node published the entity event
      events:publish(TYPES.CLUSTER_PROPAGATE, propagate)
      events:publish(m.type, m)
      if cluster then
        local payload = cjson.encode(propagate)
        local ok, err = cluster:broadcast(CHANNEL, payload)
        if not ok then
          ngx.log(ngx.ERR, "[hooks] could not propagate ", m.type, " of '", m.collection,
                  "' to the other nodes: ", tostring(err))
        end
      end
    end
  end, "crud")
  if cluster then
    cluster:subscribe(CHANNEL, function(payload)
      local m = _M.received(payload)
      if m then
        events:publish(m.type, m)
      end
    end)
  end
  return events
end

-- received(payload): the message_t another node's write gives here, as
-- 0.x's /cluster/events/ handler built it from the Serf payload: for an
-- update the payload's entity becomes old_entity and entity is the row as
-- it is now, found by the primary key the payload carries (the event is
-- dropped unless exactly one row has it); nil for an event to drop.
function _M.received(payload)
  local p = cjson.decode(payload)
  if type(p) ~= "table" or type(p.collection) ~= "string" or type(p.type) ~= "string" then
    return nil
  end
  local m = { collection = p.collection, type = p.type, primary_key = p.primary_key, entity = p.entity }
  if p.type == TYPES.ENTITY_UPDATED then
    m.old_entity = p.entity
    local dao = require("kong.dao.legacy")[p.collection]
    if not dao or type(p.primary_key) ~= "table" or type(p.entity) ~= "table" then
      return nil
    end
    local filter = {}
    for _, k in ipairs(p.primary_key) do
      if p.entity[k] == nil then
        return nil
      end
      filter[k] = p.entity[k]
    end
    local rows = dao:find_all(filter)
    if type(rows) ~= "table" or #rows ~= 1 then
      return nil
    end
    m.entity = rows[1]
  end
  return m
end

return _M
