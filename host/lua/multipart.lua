-- luahost shim for Kong's `multipart` (lua-multipart). Covers: the module
-- called as multipart(body, content_type) (or .new), :get(name) -> part
-- ({ name, headers = { header lines }, value }), :get_all() -> { name =
-- value }, :get_as_array(name), :get_all_as_arrays(), :set_simple(name,
-- value, filename, content_type), :delete(name), :tostring() (parts as
-- "--boundary\r\n<headers>\r\n\r\n<value>\r\n", then "--boundary--\r\n";
-- "" when empty). Without a boundary in content_type the body is empty.
-- A name given twice: get answers the last part, every part is kept.

local setmetatable = setmetatable
local tostring = tostring
local concat = table.concat
local remove = table.remove
local find = string.find
local sub = string.sub
local match = string.match
local lower = string.lower
local gmatch = string.gmatch
local pairs = pairs
local ipairs = ipairs

local Multipart = {}
Multipart.__index = Multipart
Multipart.RANDOM_BOUNDARY = sub(tostring({}), 10)

setmetatable(Multipart, {
  __call = function(cls, ...)
    return cls.new(...)
  end,
})

-- name="x" (or name=x) of a Content-Disposition line.
local function disposition_name(line)
  for item in gmatch(line, "[^;]+") do
    local v = match(item, "^%s*[Nn][Aa][Mm][Ee]%s*=%s*(.-)%s*$")
    if v then
      local q = sub(v, 1, 1)
      if (q == '"' or q == "'") and sub(v, -1) == q and #v >= 2 then
        v = sub(v, 2, -2)
      end
      return v
    end
  end
end

local function parse_part(raw)
  -- headers end at the first blank line (CRLF or LF)
  local hend, vstart = find(raw, "\r?\n\r?\n")
  local head, value
  if hend then
    head, value = sub(raw, 1, hend - 1), sub(raw, vstart + 1)
  else
    head, value = raw, ""
  end
  local headers, name = {}, nil
  for line in gmatch(head, "[^\r\n]+") do
    headers[#headers + 1] = line
    if lower(sub(line, 1, 19)) == "content-disposition" then
      name = disposition_name(sub(line, 21))
    end
  end
  return name, headers, value
end

local function decode(body, boundary)
  local data, indexes = {}, {}
  if not boundary then
    return data, indexes
  end
  local delim = "--" .. boundary
  local pos = find(body, delim, 1, true)
  while pos do
    local start = pos + #delim
    if sub(body, start, start + 1) == "--" then
      break -- closing delimiter
    end
    -- skip the rest of the delimiter line
    local eol = find(body, "\n", start, true)
    if not eol then
      break
    end
    local nxt = find(body, "\r\n" .. delim, eol, true) or find(body, "\n" .. delim, eol, true)
    local raw
    if nxt then
      raw = sub(body, eol + 1, nxt - 1)
      pos = find(body, delim, nxt, true)
    else
      raw = sub(body, eol + 1)
      raw = match(raw, "^(.-)\r?\n?$")
      pos = nil
    end
    local name, headers, value = parse_part(raw)
    if name then
      data[#data + 1] = { name = name, headers = headers, value = value }
      indexes[name] = #data
    end
  end
  return data, indexes
end

function Multipart.new(body, content_type)
  local self = setmetatable({}, Multipart)
  if content_type then
    local b = match(content_type, ";%s*[Bb][Oo][Uu][Nn][Dd][Aa][Rr][Yy]=([^%s;]+)")
    if b then
      local q = sub(b, 1, 1)
      if (q == '"' or q == "'") and sub(b, -1) == q then
        b = sub(b, 2, -2)
      end
      if b ~= "" then
        self._boundary = b
      end
    end
  end
  self._parts, self._indexes = decode(body or "", self._boundary)
  return self
end

function Multipart:get(name)
  local i = self._indexes[name]
  return i and self._parts[i] or nil
end

function Multipart:get_all()
  local out = {}
  for name, i in pairs(self._indexes) do
    out[name] = self._parts[i].value
  end
  return out
end

function Multipart:get_as_array(name)
  local out = {}
  for _, p in ipairs(self._parts) do
    if p.name == name then
      out[#out + 1] = p.value
    end
  end
  return out
end

function Multipart:get_all_as_arrays()
  local out = {}
  for _, p in ipairs(self._parts) do
    local list = out[p.name]
    if not list then
      list = {}
      out[p.name] = list
    end
    list[#list + 1] = p.value
  end
  return out
end

--- set_simple(name, value, filename, content_type): replaces the part
-- named name (keeping its position) or appends a new one.
function Multipart:set_simple(name, value, filename, content_type)
  local disposition = 'Content-Disposition: form-data; name="' .. name .. '"'
  if filename then
    disposition = disposition .. '; filename="' .. filename .. '"'
  end
  local headers = { disposition }
  if content_type then
    headers[2] = "Content-Type: " .. content_type
  end
  local part = { name = name, value = value, headers = headers }
  local i = self._indexes[name]
  if i then
    self._parts[i] = part
  else
    self._parts[#self._parts + 1] = part
    self._indexes[name] = #self._parts
  end
end

--- delete(name): removes the part get(name) answers.
function Multipart:delete(name)
  local i = self._indexes[name]
  if not i then
    return
  end
  remove(self._parts, i)
  self._indexes[name] = nil
  for k, j in pairs(self._indexes) do
    if j > i then
      self._indexes[k] = j - 1
    end
  end
end

function Multipart:tostring()
  local boundary = self._boundary or Multipart.RANDOM_BOUNDARY
  local out = {}
  for _, p in ipairs(self._parts) do
    if p.value then
      out[#out + 1] = "--" .. boundary .. "\r\n"
      for _, h in ipairs(p.headers) do
        out[#out + 1] = h .. "\r\n"
      end
      out[#out + 1] = "\r\n" .. p.value .. "\r\n"
    end
  end
  if #out == 0 then
    return ""
  end
  out[#out + 1] = "--" .. boundary .. "--\r\n"
  return concat(out)
end

return Multipart
