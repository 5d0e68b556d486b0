-- luahost shim for Kong's `kong.tools.mime_type` (3.x). Covers:
-- parse_mime_type(s) -> type, subtype, params (lowercased type, subtype
-- and parameter names; "*" alone is "*", "*"; nil for an invalid value)
-- and includes(this, other). Parsing is plain Lua (no LPeg).

local lower = string.lower
local find = string.find
local match = string.match
local sub = string.sub
local type = type
local error = error

-- RFC 7230 token characters.
local TOKEN = "[%w!#%$%%&'%*%+%-%.%^_`|~]+"

local function parse_params(s, pos, params)
  local len = #s
  while pos <= len do
    local p = match(s, "^[ \t]*;[ \t]*()", pos)
    if not p then
      return nil
    end
    local name, after = match(s, "^(" .. TOKEN .. ")=()", p)
    if not name then
      return nil
    end
    local value, nxt = match(s, "^(" .. TOKEN .. ")()", after)
    if not value then
      -- quoted-string: any byte but controls and '"', or a backslash pair
      if sub(s, after, after) ~= '"' then
        return nil
      end
      local i, buf = after + 1, {}
      while true do
        local c = sub(s, i, i)
        if c == "" then
          return nil
        elseif c == '"' then
          break
        elseif c == "\\" then
          local e = sub(s, i + 1, i + 1)
          if e == "" then
            return nil
          end
          buf[#buf + 1] = c .. e
          i = i + 2
        elseif find(c, "[%z\1-\31\127]") then
          return nil
        else
          buf[#buf + 1] = c
          i = i + 1
        end
      end
      value, nxt = table.concat(buf), i + 1
    end
    params[lower(name)] = value
    pos = nxt
  end
  return params
end

local function parse_mime_type(mime_type)
  if type(mime_type) ~= "string" then
    return nil
  end
  local t, st, pos
  if sub(mime_type, 1, 1) == "*" and not match(mime_type, "^" .. TOKEN .. "/") then
    t, st, pos = "*", "*", 2
  else
    t, st, pos = match(mime_type, "^(" .. TOKEN .. ")/(" .. TOKEN .. ")()")
    if not t then
      return nil
    end
    t, st = lower(t), lower(st)
  end
  local params = parse_params(mime_type, pos, {})
  if not params then
    return nil
  end
  return t, st, params
end

local function includes(this, other)
  if type(this) ~= "table" then
    error("this must be a table", 2)
  end
  if type(other) ~= "table" then
    error("other must be a table", 2)
  end
  if this.type == "*" then
    return true
  end
  if this.type == other.type then
    if this.subtype == other.subtype or this.subtype == "*" then
      return true
    end
    -- "json" includes "vnd.api+json" (a structured syntax suffix)
    if not find(this.subtype, "+", 1, true) then
      local suffix = "+" .. this.subtype
      if sub(other.subtype, -#suffix) == suffix then
        return true
      end
    end
  end
  return false
end

return {
  parse_mime_type = parse_mime_type,
  includes = includes,
}
