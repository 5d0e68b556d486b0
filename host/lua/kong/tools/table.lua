-- luahost shim for Kong's `kong.tools.table` (3.x; in kong.tools.utils in
-- 2.x). Covers: pack, unpack, table_merge, table_contains, is_array (modes
-- "strict", "fast", "lapis"), is_lapis_array, deep_copy, shallow_copy,
-- cycle_aware_deep_copy, deep_merge, cycle_aware_deep_merge, concat,
-- add_error, nkeys, EMPTY.

local floor = math.floor
local insert = table.insert

local _M = {}

_M.EMPTY = setmetatable({}, {
  __newindex = function() error("empty table is read-only", 2) end,
})

-- pack keeps the argument count in n, so nils survive.
function _M.pack(...)
  return { n = select("#", ...), ... }
end

function _M.unpack(t, i, j)
  return unpack(t, i or 1, j or t.n or #t)
end

-- table_merge is a new table with t1's then t2's keys (one level).
function _M.table_merge(t1, t2)
  local out = {}
  for k, v in pairs(t1 or {}) do out[k] = v end
  for k, v in pairs(t2 or {}) do out[k] = v end
  return out
end

function _M.table_contains(arr, val)
  if arr then
    for _, v in pairs(arr) do
      if v == val then
        return true
      end
    end
  end
  return false
end

function _M.nkeys(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

-- lapis arrays may index with numeric strings ("1", "2", ...)
local function lapis_array(t)
  if type(t) ~= "table" then
    return false
  end
  local i = 0
  for _ in pairs(t) do
    i = i + 1
    if t[i] == nil and t[tostring(i)] == nil then
      return false
    end
  end
  return true
end

-- is_array(t, mode): "strict" (default) wants keys 1..n with no hole,
-- "fast" any integer keys, "lapis" allows numeric-string keys.
function _M.is_array(t, mode)
  if type(t) ~= "table" then
    return false
  end
  if mode == "lapis" then
    return lapis_array(t)
  end
  if mode == "fast" then
    for k in pairs(t) do
      if type(k) ~= "number" or floor(k) ~= k then
        return false
      end
    end
    return true
  end
  local max, count = 0, 0
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or floor(k) ~= k then
      return false
    end
    if k > max then max = k end
    count = count + 1
  end
  return count == max
end

_M.is_lapis_array = lapis_array

-- deep_copy copies nested tables (keys too) and, unless copy_mt == false,
-- metatables.
function _M.deep_copy(orig, copy_mt)
  if type(orig) ~= "table" then
    return orig
  end
  if copy_mt == nil then
    copy_mt = true
  end
  local copy = {}
  for k, v in next, orig do
    copy[_M.deep_copy(k)] = _M.deep_copy(v, copy_mt)
  end
  if copy_mt then
    setmetatable(copy, _M.deep_copy(getmetatable(orig)))
  end
  return copy
end

function _M.shallow_copy(orig)
  if type(orig) ~= "table" then
    return orig
  end
  local copy = {}
  for k, v in pairs(orig) do
    copy[k] = v
  end
  return copy
end

-- cycle_aware_deep_copy copies shared and self references once; keys are
-- copied only when copy_keys; metatables are shared unless remove_metatables.
function _M.cycle_aware_deep_copy(orig, remove_metatables, copy_keys, cycle_aware_cache)
  if type(orig) ~= "table" then
    return orig
  end
  cycle_aware_cache = cycle_aware_cache or {}
  if cycle_aware_cache[orig] then
    return cycle_aware_cache[orig]
  end
  local copy = {}
  cycle_aware_cache[orig] = copy
  for k, v in pairs(orig) do
    if copy_keys then
      k = _M.cycle_aware_deep_copy(k, remove_metatables, copy_keys, cycle_aware_cache)
    end
    copy[k] = _M.cycle_aware_deep_copy(v, remove_metatables, copy_keys, cycle_aware_cache)
  end
  if not remove_metatables then
    setmetatable(copy, getmetatable(orig))
  end
  return copy
end

-- deep_merge is a deep copy of t1 with t2 merged in (sub-tables merged).
function _M.deep_merge(t1, t2)
  local out = _M.deep_copy(t1)
  for k, v in pairs(t2) do
    if type(v) == "table" and type(out[k]) == "table" then
      out[k] = _M.deep_merge(out[k], v)
    else
      out[k] = _M.deep_copy(v)
    end
  end
  return out
end

function _M.cycle_aware_deep_merge(t1, t2)
  local out = _M.cycle_aware_deep_copy(t1)
  for k, v in pairs(t2) do
    if type(v) == "table" and type(out[k]) == "table" then
      out[k] = _M.cycle_aware_deep_merge(out[k], v)
    else
      out[k] = _M.cycle_aware_deep_copy(v)
    end
  end
  return out
end

-- concat appends the array parts of every argument into a new array.
function _M.concat(...)
  local out = {}
  for i = 1, select("#", ...) do
    local t = select(i, ...)
    for _, v in ipairs(t) do
      out[#out + 1] = v
    end
  end
  return out
end

local err_list_mt = {}

-- add_error stores v under k; a second error for k turns it into a list.
function _M.add_error(errors, k, v)
  errors = errors or {}
  if errors[k] then
    if getmetatable(errors[k]) ~= err_list_mt then
      errors[k] = setmetatable({ errors[k] }, err_list_mt)
    end
    insert(errors[k], v)
  else
    errors[k] = v
  end
  return errors
end

return _M
