-- luahost's Kong 0.x DAO (kong/dao/dao.lua and factory.lua of Kong 0.5 -
-- 0.14, KONG-REFERENCE §9.2), over the same kong.db DAOs as every other
-- plugin: `factory.<name>` is the old DAO of entity <name> (a 0.x daos.lua
-- key, its `table`, or any kong.db entity such as consumers), reached as
-- kong.singletons.dao, the `dao` global of 0.5 - 0.7, a BasePlugin
-- handler's self.dao and the dao_factory of 0.x api.lua handlers.
--
-- Rows are 0.x rows: a 3.x foreign field `consumer` is `consumer_id`, a
-- timestamp is in milliseconds (stored in seconds as Kong 3 stores it),
-- null fields are absent. Calls and returns follow 0.8 - 0.14:
--
--   insert(t[, {ttl, quiet}])           -> row, err
--   find(pk_t)                          -> row or nil, err ("Missing PRIMARY KEY field" raised)
--   find_all([filter_t])                -> rows, err
--   find_page([filter_t][, offset][, size = 100]) -> rows, err, next_offset
--   count([filter_t])                   -> n, err
--   update(t, filter_keys[, {full, quiet}]) -> row (nil, nil when not found), err
--   delete(pk_t[, {quiet}])             -> deleted row (nil, nil when not found), err
--   truncate(), cache_key(a1..a5), entity_cache_key(row)
--
-- and 0.5 - 0.7's find_by_keys(where_t) -> rows, err, false;
-- find_by_primary_key(pk_t); count_by_keys(where_t).
--
-- err is a kong.dao.errors object (unique / foreign / schema / db, with
-- tbl, message and db_name; tostring gives "[<db> error] <message>"). The
-- 0.x-only parts of a daos.lua schema run here before the write: function
-- defaults, `regex` (PCRE, "<col> has an invalid value"), `func(value, t,
-- col)` (its new fields merged), an empty required string ("<col> is
-- required") and `self_check(schema, t, dao, is_updating)`. Events:
-- every write is a kong.db write, so it posts the crud event that caches,
-- hooks.lua (luahost.legacy_hooks) and other nodes follow; a cascade
-- delete posts one per child row, as 0.x's DAO published ENTITY_DELETED for
-- each.
--
-- Filters on fields that are neither the primary key, a unique field nor a
-- foreign key scan the entity (0.x's Postgres ran a WHERE on any column;
-- Cassandra allowed only `queryable` ones).

local Errors = require "kong.dao.errors"
local utils = require "kong.tools.utils"

local type = type
local pairs = pairs
local ipairs = ipairs
local next = next
local tostring = tostring
local tonumber = tonumber
local error = error
local floor = math.floor
local fmt = string.format
local null = ngx.null

local DEFAULT_PAGE_SIZE = 100

-- 0.x field types of Kong 3 fields, for the 0.x view of a schema.
local function old_type(f)
  if f.type == "foreign" then
    return "id"
  elseif f.type == "string" and f.uuid then
    return "id"
  elseif (f.type == "integer" or f.type == "number") and f.timestamp then
    return "timestamp"
  elseif f.type == "integer" then
    return "number"
  elseif f.type == "map" or f.type == "record" then
    return "table"
  elseif f.type == "set" then
    return "array"
  end
  return f.type
end

-- 0.x messages for Kong 3's field messages.
local function old_message(col, msg)
  if type(msg) ~= "string" then
    return msg
  end
  if msg == "required field missing" then
    return col .. " is required"
  elseif msg == "unknown field" then
    return col .. " is an unknown field"
  elseif msg == "immutable field cannot be updated" then
    return col .. " cannot be updated"
  elseif msg == "expected a valid UUID" then
    return col .. " is not a valid uuid"
  end
  local t = msg:match("^expected an? (%a+)$")
  if t then
    return col .. " is not a " .. t
  end
  local allowed = msg:match("^expected one of: (.*)$")
  if allowed then
    return allowed
  end
  return msg
end

-- factory cache: per worker, the DAOs built so far and the 0.x schemas of
-- the enabled plugins' daos.lua.
local daos = {}
local legacy_schemas

-- load_legacy_schemas reads the 0.x schemas (fields as a map) of the
-- daos.lua modules the worker loaded (every enabled plugin's, required by
-- the host when it loads the plugin), by daos.lua key and by table.
local function load_legacy_schemas()
  if legacy_schemas then
    return legacy_schemas
  end
  legacy_schemas = {}
  for modname, mod in pairs(package.loaded) do
    if type(modname) == "string" and modname:match("^kong%.plugins%.[^.]+%.daos$")
       and type(mod) == "table" and rawget(mod, 1) == nil then
      for key, s in pairs(mod) do
        if type(key) == "string" and type(s) == "table" and type(rawget(s, "fields")) == "table"
           and rawget(s.fields, 1) == nil and next(s.fields) ~= nil then
          legacy_schemas[key] = s
          if type(s.table) == "string" then
            legacy_schemas[s.table] = s
          end
        end
      end
    end
  end
  return legacy_schemas
end

local DAO = {}
DAO.__index = DAO

local function check_arg(v, n, expected, fname)
  if type(v) ~= expected then
    error(fmt("bad argument #%d to '%s' (%s expected, got %s)", n, fname, expected, type(v)), 3)
  end
end

local function check_not_empty(t, n, fname)
  if next(t) == nil then
    error(fmt("bad argument #%d to '%s' (expected table to not be empty)", n, fname), 3)
  end
end

-- new_dao(name): the old DAO of kong.db entity (or 0.x daos.lua key) name.
local function new_dao(name)
  local legacy = load_legacy_schemas()[name]
  local entity = legacy and legacy.table or name
  local db = kong and kong.db
  local new = db and db[entity]
  if not new then
    return nil
  end
  local s3 = new.schema
  local self = setmetatable({
    table = entity,
    legacy = legacy,
    new = new,
    db_name = db.strategy == "postgres" and "postgres" or "off",
    foreign = {},   -- 0.x column -> 3.x foreign field
    columns = {},   -- 3.x field -> 0.x column
    timestamps = {},
    uniques = {},
  }, DAO)
  local fields = {}
  for _, item in ipairs(s3.fields) do
    local fname, f = next(item)
    local col = fname
    if f.type == "foreign" then
      col = fname .. "_id"
      self.foreign[col] = fname
    end
    self.columns[fname] = col
    if old_type(f) == "timestamp" then
      self.timestamps[col] = true
    end
    if f.unique then
      self.uniques[col] = fname
    end
    fields[col] = {
      type = old_type(f),
      required = f.required or nil,
      unique = f.unique or nil,
      foreign = f.type == "foreign" and (f.reference .. ":id") or nil,
    }
  end
  local pk = {}
  for i, k in ipairs(s3.primary_key) do
    pk[i] = self.columns[k] or k
  end
  -- the schema 0.x code reads: the plugin's own when it has one
  self.schema = legacy or { table = entity, primary_key = pk, fields = fields }
  self.fields = fields
  self.primary_key = pk
  return self
end

-- to_new converts a 0.x row (or filter) to a Kong 3 entity.
function DAO:to_new(t)
  local out = {}
  for k, v in pairs(t) do
    local f = self.foreign[k]
    if f then
      out[f] = (v == null) and null or { id = v }
    elseif self.timestamps[k] and type(v) == "number" then
      out[k] = floor(v / 1000)
    else
      out[k] = v
    end
  end
  return out
end

-- to_old converts a Kong 3 entity to a 0.x row.
function DAO:to_old(e)
  if type(e) ~= "table" then
    return e
  end
  local out = {}
  for k, v in pairs(e) do
    if v ~= null then
      local col = self.columns[k] or k
      if self.foreign[col] then
        out[col] = type(v) == "table" and v.id or v
      elseif self.timestamps[col] and type(v) == "number" then
        out[col] = v * 1000
      else
        out[col] = v
      end
    end
  end
  return out
end

-- err_of turns kong.db's err, err_t into a kong.dao.errors object.
function DAO:err_of(err, err_t)
  local db_name = self.db_name
  if type(err_t) ~= "table" then
    return Errors.db(err ~= nil and tostring(err) or "unknown error", db_name)
  end
  local code = err_t.code
  local fields = type(err_t.fields) == "table" and err_t.fields or {}
  if code == 3 or code == 5 then -- PRIMARY_KEY_VIOLATION, UNIQUE_VIOLATION
    local t = {}
    for k, v in pairs(fields) do
      local col = self.columns[k] or k
      t[col] = type(v) == "table" and v.id or v
    end
    return Errors.unique(t, db_name)
  elseif code == 4 then -- FOREIGN_KEY_VIOLATION
    local t = {}
    for k, v in pairs(fields) do
      local col = self.columns[k] or k
      t[col] = type(v) == "table" and v.id or v
    end
    return Errors.foreign(t, db_name)
  elseif code == 1 or code == 2 or code == 7 or code == 9 or code == 11 then
    local t = {}
    for k, v in pairs(fields) do
      local col = self.columns[k] or k
      if k == "@entity" and type(v) == "table" then
        t[#t + 1] = table.concat(v, ", ")
      else
        t[col] = old_message(col, v)
      end
    end
    if next(t) == nil then
      return Errors.schema(err_t.message or tostring(err), db_name)
    end
    return Errors.schema(t, db_name)
  end
  return Errors.db(err_t.message or tostring(err), db_name)
end

-- check_filter is 0.x's is_schema_subset: known fields, valid ids.
function DAO:check_filter(t)
  local errs
  for k, v in pairs(t) do
    local f = self.fields[k]
    if not f then
      errs = errs or {}
      errs[k] = "unknown field"
    elseif f.type == "id" and v ~= nil and not utils.is_valid_uuid(v) then
      errs = errs or {}
      errs[k] = tostring(v) .. " is not a valid uuid"
    end
  end
  if errs then
    return Errors.schema(errs, self.db_name)
  end
end

-- pk_of returns the 3.x primary key of a 0.x row, or nil and the missing
-- column.
function DAO:pk_of(t)
  local pk = {}
  for i, col in ipairs(self.primary_key) do
    local v = t[col]
    if v == nil or v == null then
      return nil, col
    end
    local f = self.foreign[col]
    if f then
      pk[f] = { id = v }
    else
      pk[self.new.schema.primary_key[i]] = v
    end
  end
  return pk
end

local function matches(row, filter)
  for k, v in pairs(filter) do
    local rv = row[k]
    if rv ~= v and not (rv ~= nil and type(rv) ~= "table" and type(v) ~= "table"
                        and tostring(rv) == tostring(v)) then
      return false
    end
  end
  return true
end

-- rows(filter): the 3.x entities that can match filter (by primary key,
-- unique field or foreign key when the filter has one, else all), as 0.x
-- rows matching every filter field.
function DAO:rows(filter)
  local out = {}
  local function add(e)
    local row = self:to_old(e)
    if not filter or matches(row, filter) then
      out[#out + 1] = row
    end
  end
  if filter then
    local pk = self:pk_of(filter)
    if pk then
      local e, err, err_t = self.new:select(pk)
      if err then
        return nil, self:err_of(err, err_t)
      end
      if e then
        add(e)
      end
      return out
    end
    for col, fname in pairs(self.uniques) do
      local v = filter[col]
      if type(v) == "string" then
        local e, err, err_t = self.new["select_by_" .. fname](self.new, v)
        if err then
          return nil, self:err_of(err, err_t)
        end
        if e then
          add(e)
        end
        return out
      end
    end
    for col, fname in pairs(self.foreign) do
      local v = filter[col]
      if type(v) == "string" then
        for e, err, err_t in self.new["each_for_" .. fname](self.new, { id = v }) do
          if not e then
            return nil, self:err_of(err, err_t)
          end
          add(e)
        end
        return out
      end
    end
  end
  for e, err, err_t in self.new:each() do
    if not e then
      return nil, self:err_of(err, err_t)
    end
    add(e)
  end
  return out
end

function DAO:find(tbl)
  check_arg(tbl, 1, "table", "find")
  local pk = self:pk_of(tbl)
  if not pk then
    error("Missing PRIMARY KEY field", 2)
  end
  for _, col in ipairs(self.primary_key) do
    local f = self.fields[col]
    if f and f.type == "id" and not utils.is_valid_uuid(tbl[col]) then
      return nil, Errors.schema({ [col] = tostring(tbl[col]) .. " is not a valid uuid" }, self.db_name)
    end
  end
  local e, err, err_t = self.new:select(pk)
  if err then
    return nil, self:err_of(err, err_t)
  end
  return self:to_old(e)
end

DAO.find_by_primary_key = DAO.find

function DAO:find_all(tbl)
  if tbl ~= nil then
    check_arg(tbl, 1, "table", "find_all")
    check_not_empty(tbl, 1, "find_all")
    local err = self:check_filter(tbl)
    if err then
      return nil, err
    end
  end
  return self:rows(tbl)
end

-- find_by_keys (0.5 - 0.7): rows, err, filtering_needed (always false).
function DAO:find_by_keys(where_t)
  if where_t ~= nil and next(where_t) == nil then
    where_t = nil
  end
  local rows, err = self:find_all(where_t)
  return rows, err, false
end

function DAO:find_page(tbl, page_offset, page_size)
  if tbl ~= nil then
    check_arg(tbl, 1, "table", "find_page")
    check_not_empty(tbl, 1, "find_page")
    local err = self:check_filter(tbl)
    if err then
      return nil, err
    end
  end
  if page_size == nil then
    page_size = DEFAULT_PAGE_SIZE
  end
  check_arg(page_size, 3, "number", "find_page")
  if tbl == nil then
    local rows, err, err_t, offset = self.new:page(page_size, page_offset)
    if err then
      return nil, self:err_of(err, err_t)
    end
    local out = {}
    for i, e in ipairs(rows) do
      out[i] = self:to_old(e)
    end
    return out, nil, offset
  end
  -- a filtered page: the offset is the index of its first row
  local rows, err = self:rows(tbl)
  if not rows then
    return nil, err
  end
  local first = tonumber(page_offset) or 1
  local out = {}
  for i = first, math.min(#rows, first + page_size - 1) do
    out[#out + 1] = rows[i]
  end
  local next_offset
  if first + page_size <= #rows then
    next_offset = tostring(first + page_size)
  end
  return out, nil, next_offset
end

function DAO:count(tbl)
  if tbl ~= nil then
    check_arg(tbl, 1, "table", "count")
    check_not_empty(tbl, 1, "count")
    local err = self:check_filter(tbl)
    if err then
      return nil, err
    end
  end
  local rows, err = self:rows(tbl)
  if not rows then
    return nil, err
  end
  return #rows
end

-- count_by_keys (0.5 - 0.7)
function DAO:count_by_keys(where_t)
  if where_t ~= nil and next(where_t) == nil then
    where_t = nil
  end
  return self:count(where_t)
end

-- validate_legacy runs what only the plugin's 0.x schema says.
function DAO:validate_legacy(t, updating, full)
  local s = self.legacy
  if not s then
    return true
  end
  local errs
  local function add(col, msg)
    errs = errs or {}
    errs[col] = msg
  end
  for col, f in pairs(s.fields) do
    if type(f) == "table" then
      if (not updating or full) and t[col] == nil and type(f.default) == "function" then
        t[col] = f.default(t)
      end
      local v = t[col]
      if f.required and v == "" then
        add(col, col .. " is required")
      elseif v ~= nil and v ~= null then
        if type(f.regex) == "string" and type(v) == "string" then
          local from = ngx.re.find(v, f.regex)
          if not from then
            add(col, col .. " has an invalid value")
          end
        end
        if type(f.func) == "function" and not (errs and errs[col]) then
          local ok, err, new_fields = f.func(v, t, col)
          if ok == false then
            add(col, err)
          elseif type(new_fields) == "table" then
            for k, nv in pairs(new_fields) do
              t[k] = nv
            end
          end
        end
      end
    end
  end
  if errs then
    return false, Errors.schema(errs, self.db_name)
  end
  if type(s.self_check) == "function" then
    local ok, err = s.self_check(s, t, self, updating)
    if ok == false then
      if type(err) == "table" and Errors.is_error(err) then
        err.db_name = err.db_name or self.db_name
        return false, err
      end
      return false, Errors.schema(err, self.db_name)
    end
  end
  return true
end

function DAO:insert(tbl, options)
  options = options or {}
  check_arg(tbl, 1, "table", "insert")
  check_arg(options, 2, "table", "insert")
  local ok, err = self:validate_legacy(tbl, false)
  if not ok then
    return nil, err
  end
  local opts
  if options.ttl or options.quiet then
    opts = { ttl = options.ttl, no_broadcast_crud_event = options.quiet or nil }
  end
  local e, e_err, err_t = self.new:insert(self:to_new(tbl), opts)
  if not e then
    return nil, self:err_of(e_err, err_t)
  end
  return self:to_old(e)
end

function DAO:update(tbl, filter_keys, options)
  options = options or {}
  check_arg(tbl, 1, "table", "update")
  check_not_empty(tbl, 1, "update")
  check_arg(filter_keys, 2, "table", "update")
  check_not_empty(filter_keys, 2, "update")
  check_arg(options, 3, "table", "update")
  for k, v in pairs(filter_keys) do
    if tbl[k] == nil then
      tbl[k] = v
    end
  end
  local pk, missing = self:pk_of(tbl)
  if not pk then
    return nil, Errors.schema({ [missing] = missing .. " is required" }, self.db_name)
  end
  local old, err, err_t = self.new:select(pk)
  if err then
    return nil, self:err_of(err, err_t)
  elseif old == nil then
    return nil
  end
  local ok, verr = self:validate_legacy(tbl, true, options.full)
  if not ok then
    return nil, verr
  end
  local values = self:to_new(tbl)
  for k in pairs(pk) do
    values[k] = nil
  end
  local opts = options.quiet and { no_broadcast_crud_event = true } or nil
  local e
  if options.full then
    -- a full update replaces the row; what the DB generated stays
    for _, item in ipairs(self.new.schema.fields) do
      local fname, f = next(item)
      if f.auto and values[fname] == nil and pk[fname] == nil and fname ~= "updated_at" then
        values[fname] = old[fname]
      end
    end
    e, err, err_t = self.new:upsert(pk, values, opts)
  else
    e, err, err_t = self.new:update(pk, values, opts)
  end
  if not e then
    return nil, self:err_of(err, err_t)
  end
  return self:to_old(e)
end

function DAO:delete(tbl, options)
  options = options or {}
  check_arg(tbl, 1, "table", "delete")
  check_arg(options, 2, "table", "delete")
  local pk = self:pk_of(tbl)
  if not pk then
    error("Missing PRIMARY KEY field", 2)
  end
  local row, err, err_t = self.new:select(pk)
  if err then
    return nil, self:err_of(err, err_t)
  elseif row == nil then
    return nil
  end
  local ok
  ok, err, err_t = self.new:delete(pk, options.quiet and { no_broadcast_crud_event = true } or nil)
  if not ok then
    return nil, self:err_of(err, err_t)
  end
  return self:to_old(row)
end

function DAO:truncate()
  local ok, err, err_t = self.new:truncate()
  if not ok and err then
    return nil, self:err_of(err, err_t)
  end
  return true
end

-- cache_key (0.11+): Kong 3's key when the entity has a cache_key (so the
-- core's invalidation of the row matches it), else 0.11's
-- "<table>:a1:a2:a3:a4:a5".
function DAO:cache_key(a1, a2, a3, a4, a5)
  if self.new.schema.cache_key then
    return self.new:cache_key(a1, a2, a3, a4, a5)
  end
  return fmt("%s:%s:%s:%s:%s:%s", self.table, tostring(a1 == nil and "" or a1),
             a2 or "", a3 or "", a4 or "", a5 or "")
end

function DAO:entity_cache_key(row)
  local ck = self.schema.cache_key
  if type(ck) ~= "table" then
    return nil
  end
  local values = {}
  for i = 1, #ck do
    values[i] = row[ck[i]]
  end
  return self:cache_key(values[1], values[2], values[3], values[4], values[5])
end

local factory = setmetatable({}, {
  __index = function(_, name)
    local d = daos[name]
    if d == nil then
      d = new_dao(name) or false
      if d then
        daos[name] = d
      end
    end
    return d or nil
  end,
})

return factory
