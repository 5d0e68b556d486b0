-- luahost shim for Kong's `kong.tools.string` (3.x; the same functions were
-- in kong.tools.utils in 2.x). Covers: split (Penlight stringx.split
-- semantics), strip, validate_utf8, bytes_to_str, validate_header_name,
-- validate_cookie_name, replace_dashes, replace_dashes_lower.

local native = require "luahost.native"

local find = string.find
local sub = string.sub
local fmt = string.format
local lower = string.lower
local gsub = string.gsub

local _M = {}

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
