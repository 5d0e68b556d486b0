-- luahost shim for Kong's `kong.tools.ip` (3.x; in kong.tools.utils in
-- 2.x). Covers: is_valid_ipv4/ipv6/ip, is_valid_cidr_v4/v6/cidr,
-- is_valid_ip_or_cidr_v4/v6/ip_or_cidr, hostname_type, normalize_ipv4,
-- normalize_ipv6, check_hostname, normalize_ip, format_host. Address
-- parsing is Go's net/netip (through luahost.native) where Kong uses
-- lua-resty-ipmatcher.

local native = require "luahost.native"

local fmt = string.format
local gsub = string.gsub
local lower = string.lower

local _M = {}

local parse_ipv4, parse_ipv6 = native.parse_ipv4, native.parse_ipv6

-- prefix lengths accepted after "/" ("0".."32" / "0".."128", no sign, no
-- leading "+")
local function prefix_ok(p, max)
  if not p:match("^%d+$") then
    return false
  end
  local n = tonumber(p)
  return n <= max and tostring(n) == p
end

local function cidr(s, parse, max)
  if type(s) ~= "string" then
    return false
  end
  local slash = s:find("/", 3, true)
  if not slash then
    return false
  end
  return parse(s:sub(1, slash - 1)) and prefix_ok(s:sub(slash + 1), max)
end

function _M.is_valid_ipv4(s)
  return type(s) == "string" and parse_ipv4(s)
end

function _M.is_valid_ipv6(s)
  return type(s) == "string" and parse_ipv6(s)
end

function _M.is_valid_ip(s)
  return type(s) == "string" and (parse_ipv4(s) or parse_ipv6(s))
end

function _M.is_valid_cidr_v4(s)
  return cidr(s, parse_ipv4, 32)
end

function _M.is_valid_cidr_v6(s)
  return cidr(s, parse_ipv6, 128)
end

function _M.is_valid_cidr(s)
  return _M.is_valid_cidr_v4(s) or _M.is_valid_cidr_v6(s)
end

function _M.is_valid_ip_or_cidr_v4(s)
  return _M.is_valid_ipv4(s) or _M.is_valid_cidr_v4(s)
end

function _M.is_valid_ip_or_cidr_v6(s)
  return _M.is_valid_ipv6(s) or _M.is_valid_cidr_v6(s)
end

function _M.is_valid_ip_or_cidr(s)
  return _M.is_valid_ip(s) or _M.is_valid_cidr(s)
end

-- hostname_type: "ipv6" with more than one ":", "ipv4" for digits and dots,
-- else "name" (a syntactic guess, as Kong's).
function _M.hostname_type(name)
  local rest, colons = gsub(name, ":", "")
  if colons > 1 then
    return "ipv6"
  end
  if rest:match("^[%d%.]+$") then
    return "ipv4"
  end
  return "name"
end

-- normalize_ipv4("1.2.3.4[:port]") -> "1.2.3.4", port
function _M.normalize_ipv4(address)
  local a, b, c, d, port = address:match("^(%d%d?%d?)%.(%d%d?%d?)%.(%d%d?%d?)%.(%d%d?%d?):?(%d*)$")
  if not a or (port == "" and address:find(":", 1, true)) then
    return nil, "invalid ipv4 address: " .. address
  end
  a, b, c, d = tonumber(a), tonumber(b), tonumber(c), tonumber(d)
  if a > 255 or b > 255 or c > 255 or d > 255 then
    return nil, "invalid ipv4 address: " .. address
  end
  if port ~= "" then
    port = tonumber(port)
    if port > 65535 then
      return nil, "invalid port number"
    end
  else
    port = nil
  end
  return fmt("%d.%d.%d.%d", a, b, c, d), port
end

-- normalize_ipv6("[::1]:80") -> "0000:0000:0000:0000:0000:0000:0000:0001", 80
function _M.normalize_ipv6(address)
  local inner, port = address:match("^(%b[])(.-)$")
  local addr = address
  if inner then
    addr = inner:sub(2, -2)
    if port == "" then
      port = nil
    else
      port = port:match("^:(%d-)$")
      if not port then
        return nil, "invalid ipv6 address"
      end
      port = tonumber(port)
      if not port or port > 65535 then
        return nil, "invalid port number"
      end
    end
  else
    port = nil
  end
  if addr:sub(1, 1) == ":" then
    addr = "0" .. addr
  end
  if addr:sub(-1) == ":" then
    addr = addr .. "0"
  end
  if addr:find("::", 1, true) then
    local _, n = gsub(addr, ":", "")
    addr = gsub(addr, "::", ":" .. string.rep("0:", 8 - n), 1)
  end
  local groups = {}
  for g in (addr .. ":"):gmatch("([^:]*):") do
    if not g:match("^%x%x?%x?%x?$") then
      return nil, "invalid ipv6 address: " .. address
    end
    groups[#groups + 1] = string.rep("0", 4 - #g) .. g
  end
  if #groups ~= 8 then
    return nil, "invalid ipv6 address: " .. address
  end
  return lower(table.concat(groups, ":")), port
end

-- check_hostname("example.com[:port]") -> name, port
function _M.check_hostname(address)
  local name = address
  local port = address:match(":(%d+)$")
  if port then
    name = name:sub(1, -(#port + 2))
    port = tonumber(port)
    if port > 65535 then
      return nil, "invalid port number"
    end
  end
  if not name:match("^[%d%a%-%.%_]+$") then
    return nil, "invalid hostname: " .. address
  end
  local labels = {}
  for label in (name .. "."):gmatch("([^.]*)%.") do
    labels[#labels + 1] = label
  end
  for i, label in ipairs(labels) do
    if label:match("%-$") or (label == "" and i ~= #labels) then
      return nil, "invalid hostname: " .. address
    end
  end
  return name, port
end

local normalizers = {
  ipv4 = _M.normalize_ipv4,
  ipv6 = _M.normalize_ipv6,
  name = _M.check_hostname,
}

-- normalize_ip(address) -> { type = "ipv4"|"ipv6"|"name", host, port }
function _M.normalize_ip(address)
  local typ = _M.hostname_type(address)
  local host, port = normalizers[typ](address)
  if not host then
    return nil, port
  end
  return { type = typ, host = host, port = port }
end

-- format_host(host | normalize_ip() result, port) -> "host[:port]", IPv6
-- in brackets.
function _M.format_host(p1, p2)
  local t = type(p1)
  if t == "nil" then
    return p1, p2
  end
  local host, port, typ
  if t == "table" then
    host, port = p1.host, p1.port or p2
    typ = p1.type or _M.hostname_type(host)
  elseif t == "string" then
    host, port = p1, p2
    typ = _M.hostname_type(host)
  else
    return nil, "cannot format type '" .. t .. "'"
  end
  local suffix = port and (":" .. port) or ""
  if typ == "ipv6" and not host:find("[", 1, true) then
    return "[" .. _M.normalize_ipv6(host) .. "]" .. suffix
  end
  return host .. suffix
end

return _M
