-- luahost shim for Kong's `kong.dao.errors` (Kong 0.5 - 0.14, removed with
-- the old DAO in 1.0/2.0). Covers the four constructors the old DAO and
-- plugins use: unique(tbl), foreign(tbl), schema(tbl or msg), db(msg), each
-- `(err[, db_name])`, returning an error object with the flag of its kind
-- set (`err.unique`, `err.foreign`, `err.schema`, `err.db`), `message`, the
-- per-field table `tbl` (for a table argument) and `db_name`.
--
-- A unique error's tbl says "already exists with value '<v>'" per field, a
-- foreign one "does not exist with value '<v>'"; `message` is the table
-- printed as 0.x's kong.tools.printable did ("k=v k2=v2", arrays joined
-- with ","); tostring(err) is "[<db_name> error] <message>" (just the
-- message without a db_name) and the error concatenates as that string.
-- An error object given again is returned as it is; nil gives nil.

local setmetatable = setmetatable
local getmetatable = getmetatable
local tostring = tostring
local type = type
local pairs = pairs
local concat = table.concat
local sort = table.sort

local error_mt = {}

error_mt.__tostring = function(e)
  if e.db_name then
    return "[" .. tostring(e.db_name) .. " error] " .. tostring(e.message)
  end
  return tostring(e.message)
end

error_mt.__concat = function(a, b)
  return tostring(a) .. tostring(b)
end

local function is_array(t)
  local n = #t
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or k > n or k % 1 ~= 0 then
      return false
    end
  end
  return true
end

-- printable: 0.x's "k=v" rendering of a field table; keys are sorted here
-- (0.x followed the hash order) so that the message is stable.
local printable_mt = {}

printable_mt.__tostring = function(t)
  local keys = {}
  for k in pairs(t) do
    keys[#keys + 1] = k
  end
  sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = t[k]
    if type(v) == "table" then
      if is_array(v) then
        local items = {}
        for i = 1, #v do
          items[i] = tostring(v[i])
        end
        v = concat(items, ",")
      else
        v = tostring(setmetatable(v, getmetatable(v) or printable_mt))
      end
    end
    parts[#parts + 1] = (type(k) == "string" and (k .. "=") or "") .. tostring(v)
  end
  return concat(parts, " ")
end

printable_mt.__concat = error_mt.__concat

local rewrite = {
  unique = function(t)
    local out = {}
    for k, v in pairs(t) do
      out[k] = "already exists with value '" .. tostring(v) .. "'"
    end
    return out
  end,
  foreign = function(t)
    local out = {}
    for k, v in pairs(t) do
      out[k] = "does not exist with value '" .. tostring(v) .. "'"
    end
    return out
  end,
}

local function constructor(kind)
  return function(err, db_name)
    if err == nil then
      return nil
    end
    if getmetatable(err) == error_mt then
      return err
    end
    local e = { [kind] = true, db_name = db_name }
    if type(err) == "table" then
      local tbl = rewrite[kind] and rewrite[kind](err) or err
      e.tbl = setmetatable(tbl, printable_mt)
      e.message = tostring(e.tbl)
    else
      e.message = err
    end
    return setmetatable(e, error_mt)
  end
end

local _M = {
  unique = constructor("unique"),
  foreign = constructor("foreign"),
  schema = constructor("schema"),
  db = constructor("db"),
}

-- is_error(v): whether v is one of these error objects (luahost's own,
-- used by the Admin API's error handler).
function _M.is_error(v)
  return getmetatable(v) == error_mt
end

return _M
