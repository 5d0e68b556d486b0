-- luahost's stand-in for Kong's `kong.db.declarative` (3.x), covering
-- load_into_db(entities, meta) only: a flattened declarative
-- configuration ({ <entity name> = { [pk] = row, ... } }) written into
-- kong.db, parents before the entities whose foreign keys point at them,
-- each row upserted by its primary key with { transform = meta._transform }
-- (false: a row's stored values, such as a hashed password, go in as
-- given). Not covered: parsing (luahost reads kong.yml in Go, package
-- kongdb/declarative), load_into_cache, export.

local _M = {}

-- sorted: schemas ordered so that a schema comes after every schema its
-- foreign fields reference (among those given); nil and an error on a
-- cycle
local function sorted(schemas)
  local by_name, names = {}, {}
  for _, s in ipairs(schemas) do
    by_name[s.name] = s
    names[#names + 1] = s.name
  end
  table.sort(names)
  local out, state = {}, {}
  local function visit(name)
    if state[name] == "done" then return true end
    if state[name] == "visiting" then
      return nil, "cycle detected in the foreign keys of " .. name
    end
    state[name] = "visiting"
    local s = by_name[name]
    for _, field in s:each_field() do
      local ref = field.type == "foreign" and field.reference
      if ref and ref ~= name and by_name[ref] then
        local ok, err = visit(ref)
        if not ok then return nil, err end
      end
    end
    state[name] = "done"
    out[#out + 1] = s
    return true
  end
  for _, name in ipairs(names) do
    local ok, err = visit(name)
    if not ok then return nil, err end
  end
  return out
end

local function copy(v)
  if type(v) ~= "table" then return v end
  local t = {}
  for k, x in pairs(v) do t[k] = copy(x) end
  return setmetatable(t, getmetatable(v))
end

-- load_into_db(entities, meta) -> true, or nil, err, err_t
function _M.load_into_db(entities, meta)
  assert(type(entities) == "table")
  meta = meta or {}
  local db = kong.db
  local schemas = {}
  for name in pairs(entities) do
    local dao = db[name]
    if not dao then
      return nil, "unknown entity: " .. name
    end
    schemas[#schemas + 1] = dao.schema
  end
  local order, err = sorted(schemas)
  if not order then
    return nil, err
  end
  local options = { transform = meta._transform }
  for _, schema in ipairs(order) do
    local dao = db[schema.name]
    for _, row in pairs(entities[schema.name]) do
      local entity = copy(row)
      entity._tags = nil
      entity.ws_id = nil
      local ok, uerr, err_t = dao:upsert(schema:extract_pk_values(entity), entity, options)
      if not ok then
        return nil, uerr, err_t
      end
    end
  end
  return true
end

return _M
