-- luahost shim for LuaSocket's `socket.url` (3.x). Covers: escape,
-- unescape, parse(url, default), build(parsed), absolute(base, relative),
-- parse_path(path), build_path(parsed, unsafe), with LuaSocket's results:
-- parse yields scheme, authority, userinfo, user, password, host, port (a
-- string), path, params, query and fragment; whitespace is removed first.

local gsub = string.gsub
local match = string.match
local find = string.find
local sub = string.sub
local format = string.format
local byte = string.byte
local char = string.char
local concat = table.concat
local tonumber = tonumber
local tostring = tostring
local type = type
local pairs = pairs

local _M = { _VERSION = "URL 1.0.3" }

local function hex_escape(c)
  return format("%%%02x", byte(c))
end

--- escape(s): every byte outside [A-Za-z0-9_] becomes %xx (lowercase hex).
function _M.escape(s)
  return (gsub(s, "[^%w_]", hex_escape))
end

--- unescape(s): decodes every %xx sequence.
function _M.unescape(s)
  return (gsub(s, "%%(%x%x)", function(h) return char(tonumber(h, 16)) end))
end

-- Bytes a path segment may hold unescaped (RFC 2396 pchar).
local segment_safe = {}
for c in ("-_.!~*'():@&=+$,"):gmatch(".") do
  segment_safe[c] = true
end

local function protect_segment(s)
  return (gsub(s, "[^%w]", function(c)
    if segment_safe[c] then
      return c
    end
    return hex_escape(c)
  end))
end

--- parse(url, default): the parsed table (fields of default fill what url
-- lacks), or nil and "invalid url" for a nil or empty url.
function _M.parse(url, default)
  local parsed = {}
  for k, v in pairs(default or parsed) do
    parsed[k] = v
  end
  if not url or url == "" then
    return nil, "invalid url"
  end
  url = gsub(url, "%s", "")
  -- Peel off, in order: #fragment, scheme:, //authority, ?query, ;params;
  -- the rest is the path.
  local pos = find(url, "#", 1, true)
  if pos then
    parsed.fragment = sub(url, pos + 1)
    url = sub(url, 1, pos - 1)
  end
  local scheme = match(url, "^([%w][%w%+%-%.]*):")
  if scheme then
    parsed.scheme = scheme
    url = sub(url, #scheme + 2)
  end
  if sub(url, 1, 2) == "//" then
    local auth = match(url, "^//([^/]*)")
    parsed.authority = auth
    url = sub(url, #auth + 3)
  end
  pos = find(url, "?", 1, true)
  if pos then
    parsed.query = sub(url, pos + 1)
    url = sub(url, 1, pos - 1)
  end
  pos = find(url, ";", 1, true)
  if pos then
    parsed.params = sub(url, pos + 1)
    url = sub(url, 1, pos - 1)
  end
  if url ~= "" then
    parsed.path = url
  end

  local authority = parsed.authority
  if not authority then
    return parsed
  end
  local userinfo, rest = match(authority, "^([^@]*)@(.*)$")
  if userinfo then
    parsed.userinfo = userinfo
    authority = rest
  end
  local hostpart, port = match(authority, "^(.*):([^:%]]*)$")
  if hostpart then
    parsed.port = port
    authority = hostpart
  end
  if authority ~= "" then
    parsed.host = match(authority, "^%[(.+)%]$") or authority
  end
  if not userinfo then
    return parsed
  end
  local user, password = match(userinfo, "^(.*):([^:]*)$")
  if user then
    parsed.password = password
    userinfo = user
  end
  parsed.user = userinfo
  return parsed
end

--- build(parsed): the URL string of a parsed table. host, port, user and
-- password take precedence over authority and userinfo.
function _M.build(parsed)
  local url = parsed.path or ""
  if parsed.params then
    url = url .. ";" .. parsed.params
  end
  if parsed.query then
    url = url .. "?" .. parsed.query
  end
  local authority = parsed.authority
  if parsed.host then
    authority = parsed.host
    if find(authority, ":", 1, true) then
      authority = "[" .. authority .. "]"
    end
    if parsed.port then
      authority = authority .. ":" .. tostring(parsed.port)
    end
    local userinfo = parsed.userinfo
    if parsed.user then
      userinfo = parsed.user
      if parsed.password then
        userinfo = userinfo .. ":" .. parsed.password
      end
    end
    if userinfo then
      authority = userinfo .. "@" .. authority
    end
  end
  if authority then
    url = "//" .. authority .. url
  end
  if parsed.scheme then
    url = parsed.scheme .. ":" .. url
  end
  if parsed.fragment then
    url = url .. "#" .. parsed.fragment
  end
  return url
end

-- remove_dots drops "." segments and folds "seg/.." pairs (RFC 2396 5.2).
local function remove_dots(path)
  local segs = {}
  local absolute = sub(path, 1, 1) == "/"
  local trailing = false
  local parts = {}
  for seg in (path .. "/"):gmatch("([^/]*)/") do
    parts[#parts + 1] = seg
  end
  -- (path .. "/") splits "a/b" into a, b and "/a" into "", a.
  for i, seg in ipairs(parts) do
    local last = i == #parts
    if seg == "." then
      trailing = last
    elseif seg == ".." then
      local n = #segs
      if n > 0 and segs[n] ~= ".." and segs[n] ~= "" then
        segs[n] = nil
      elseif not absolute then
        segs[n + 1] = ".."
      end
      trailing = last
    elseif not (i == 1 and absolute and seg == "") then
      segs[#segs + 1] = seg
      trailing = false
    end
  end
  local out = concat(segs, "/")
  if trailing and out ~= "" then
    out = out .. "/"
  end
  if absolute then
    out = "/" .. out
  end
  return out
end

local function absolute_path(base_path, relative_path)
  if sub(relative_path, 1, 1) == "/" then
    return relative_path
  end
  local dir = gsub(base_path, "[^/]*$", "")
  return remove_dots(dir .. relative_path)
end

--- absolute(base, relative): relative resolved against base (a URL string
-- or a parsed table).
function _M.absolute(base_url, relative_url)
  local base
  if type(base_url) == "table" then
    base = base_url
    base_url = _M.build(base)
  else
    base = _M.parse(base_url)
  end
  local rel = _M.parse(relative_url)
  if not base then
    return relative_url
  elseif not rel then
    return base_url
  elseif rel.scheme then
    return relative_url
  end
  rel.scheme = base.scheme
  if not rel.authority then
    rel.authority = base.authority
    if not rel.path then
      rel.path = base.path
      if not rel.params then
        rel.params = base.params
        if not rel.query then
          rel.query = base.query
        end
      end
    else
      rel.path = absolute_path(base.path or "", rel.path)
    end
  end
  return _M.build(rel)
end

--- parse_path(path): the unescaped segments, with is_absolute = 1 for a
-- leading "/" and is_directory = 1 for a trailing one.
function _M.parse_path(path)
  local parsed = {}
  path = path or ""
  for seg in path:gmatch("([^/]+)") do
    parsed[#parsed + 1] = _M.unescape(seg)
  end
  if sub(path, 1, 1) == "/" then
    parsed.is_absolute = 1
  end
  if sub(path, -1) == "/" then
    parsed.is_directory = 1
  end
  return parsed
end

--- build_path(parsed, unsafe): the path of parse_path's table; segments are
-- escaped unless unsafe is true.
function _M.build_path(parsed, unsafe)
  local segs = {}
  for i = 1, #parsed do
    segs[i] = unsafe and parsed[i] or protect_segment(parsed[i])
  end
  local path = concat(segs, "/")
  if #parsed > 0 then
    if parsed.is_directory then
      path = path .. "/"
    end
  end
  if parsed.is_absolute then
    path = "/" .. path
  end
  return path
end

return _M
