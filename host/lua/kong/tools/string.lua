-- luahost shim for Kong's `kong.tools.string` (3.x; the same functions were
-- in kong.tools.utils in 2.x). Covers: split (Penlight stringx.split
-- semantics), join, split_once/psplit_once, splitn/psplitn and their
-- iterators isplitn/ipsplitn (3.10+), strip, validate_utf8, bytes_to_str,
-- validate_header_name, validate_cookie_name, replace_dashes,
-- replace_dashes_lower.

local native = require "luahost.native"

local find = string.find
local sub = string.sub
local fmt = string.format
local lower = string.lower
local gsub = string.gsub

local _M = {}

-- join(sep, list): Penlight's stringx.join, the list's strings with sep
-- between them.
function _M.join(sep, list)
  return table.concat(list, sep)
end

-- split_at_first(value, delim, plain): what comes before and after the
-- first match of delim. No match: value and nil; an empty delimiter: ""
-- and all of value.
local function split_at_first(value, delim, plain)
  if value == nil then
    return nil, nil
  end
  if delim == nil then
    return value, nil
  end
  if delim == "" then
    return "", value
  end
  if value == "" then
    return "", nil
  end
  local i, j = find(value, delim, 1, plain)
  if not i then
    return value, nil
  end
  return sub(value, 1, i - 1), sub(value, j + 1)
end

-- split_once(value, delim): split at the first plain delim.
function _M.split_once(value, delim)
  return split_at_first(value, delim, true)
end

-- psplit_once(value, pattern): split at the first match of a Lua pattern.
function _M.psplit_once(value, pattern)
  return split_at_first(value, pattern, false)
end

-- split_fields(value, delim, n, plain): the fields of value between the
-- matches of delim, at most n of them (the last holds the rest), and their
-- count. Unlike split, empty fields are kept at both ends ("" gives one
-- empty field), and an empty delimiter splits between every byte with an
-- empty field at each end; a nil delimiter or n = 1 gives value whole,
-- n < 1 or a nil value nothing.
local function split_fields(value, delim, n, plain)
  local limit = n or math.huge
  if value == nil or limit < 1 then
    return {}, 0
  end
  if delim == nil or limit == 1 then
    return { value }, 1
  end
  if delim == "" then
    local out = { "" }
    local len = #value
    for k = 1, len do
      if #out + 1 == limit then
        out[#out + 1] = sub(value, k)
        return out, #out
      end
      out[#out + 1] = sub(value, k, k)
    end
    out[#out + 1] = ""
    return out, #out
  end
  local out, pos = {}, 1
  while #out + 1 < limit do
    local i, j = find(value, delim, pos, plain)
    if not i then
      break
    end
    out[#out + 1] = sub(value, pos, i - 1)
    pos = j + 1
  end
  out[#out + 1] = sub(value, pos)
  return out, #out
end

-- splitn(value, delim, n): the fields and their count, plain delimiter.
function _M.splitn(value, delim, n)
  return split_fields(value, delim, n, true)
end

-- psplitn(value, pattern, n): the same, the delimiter a Lua pattern.
function _M.psplitn(value, pattern, n)
  return split_fields(value, pattern, n, false)
end

-- fields_iter returns the fields of a list one by one (for ... in).
local function fields_iter(value, delim, n, plain)
  local fields, count = split_fields(value, delim, n, plain)
  local k = 0
  return function()
    if k < count then
      k = k + 1
      return fields[k]
    end
  end
end

-- isplitn(value, delim, n): an iterator over splitn's fields.
function _M.isplitn(value, delim, n)
  return fields_iter(value, delim, n, true)
end

-- ipsplitn(value, pattern, n): an iterator over psplitn's fields.
function _M.ipsplitn(value, pattern, n)
  return fields_iter(value, pattern, n, false)
end

-- split(s, delim, n): with a delimiter, a plain split keeping empty fields
-- (a trailing delimiter gives a trailing ""); without one, split on runs of
-- whitespace. n limits the number of fields (the last holds the rest).
function _M.split(s, delim, n)
  local plain = true
  local pattern = delim
  if not pattern then
    s = gsub(s, "^%s+", "")
    pattern = "%s+"
    plain = false
  end
  if pattern == "" then
    return { s }
  end
  local out = {}
  local pos = 1
  while true do
    local i, j = find(s, pattern, pos, plain)
    if not i then
      local last = sub(s, pos)
      if last ~= "" then
        out[#out + 1] = last
      end
      break
    end
    out[#out + 1] = sub(s, pos, i - 1)
    if n and #out == n then
      out[#out] = sub(s, pos)
      return out
    end
    pos = j + 1
  end
  if #out == 1 and out[1] == "" then
    out = {}
  end
  if delim and delim ~= "" and find(s, delim, -#delim, true) and (n or math.huge) > #out then
    out[#out + 1] = ""
  end
  return out
end

-- strip(s): s without leading and trailing whitespace ("" for nil).
function _M.strip(s)
  if s == nil then
    return ""
  end
  s = tostring(s)
  return (gsub(gsub(s, "^%s+", ""), "%s+$", ""))
end

-- validate_utf8(v): true, or false plus the 1-based position of the first
-- invalid byte.
function _M.validate_utf8(v)
  local s = tostring(v)
  if native.validate_utf8(s) then
    return true
  end
  local i, len = 1, #s
  while i <= len do
    local c = s:byte(i)
    local n = c < 0x80 and 1 or (c >= 0xC2 and c <= 0xDF) and 2 or (c >= 0xE0 and c <= 0xEF) and 3
              or (c >= 0xF0 and c <= 0xF4) and 4 or nil
    if not n or not native.validate_utf8(sub(s, i, i + n - 1)) then
      return false, i
    end
    i = i + n
  end
  return false, i
end

-- bytes_to_str(bytes, unit, scale): "123", "1.50 KiB", "2.0 MiB", ...
function _M.bytes_to_str(bytes, unit, scale)
  if not unit or unit == "" or lower(unit) == "b" then
    return fmt("%d", bytes)
  end
  scale = scale or 2
  if type(scale) ~= "number" or scale < 0 then
    error("scale must be equal or greater than 0", 2)
  end
  local spec = "%." .. scale .. "f"
  local u = lower(unit)
  if u == "k" then
    return fmt(spec .. " KiB", bytes / 2^10)
  elseif u == "m" then
    return fmt(spec .. " MiB", bytes / 2^20)
  elseif u == "g" then
    return fmt(spec .. " GiB", bytes / 2^30)
  end
  error("invalid unit '" .. unit .. "' (expected 'k/K', 'm/M', or 'g/G')", 2)
end

-- Kong 2.x's header and cookie name check (kongdb/schema's ValidateName,
-- through luahost.native)
function _M.validate_header_name(name)
  return native.validate_name("header", name)
end

function _M.validate_cookie_name(name)
  return native.validate_name("cookie", name)
end

function _M.replace_dashes(s)
  return (gsub(s, "-", "_"))
end

function _M.replace_dashes_lower(s)
  return lower((gsub(s, "-", "_")))
end

return _M
