-- luahost shim for Kong's `kong.tools.ip` (3.x; in kong.tools.utils in
-- 2.x). Covers: is_valid_ipv4/ipv6/ip, is_valid_cidr_v4/v6/cidr,
-- is_valid_ip_or_cidr_v4/v6/ip_or_cidr, hostname_type, normalize_ipv4,
-- normalize_ipv6, check_hostname, normalize_ip, format_host. The rules are
-- kongdb/schema's (builtin_net.go, the typedefs' validators use them too),
-- called through luahost.native; addresses are parsed by Go's net/netip
-- where Kong uses lua-resty-ipmatcher (inet_pton).

local native = require "luahost.native"

local _M = {
  is_valid_ipv4 = native.is_valid_ipv4,
  is_valid_ipv6 = native.is_valid_ipv6,
  is_valid_ip = native.is_valid_ip,
  is_valid_cidr_v4 = native.is_valid_cidr_v4,
  is_valid_cidr_v6 = native.is_valid_cidr_v6,
  is_valid_cidr = native.is_valid_cidr,
  is_valid_ip_or_cidr_v4 = native.is_valid_ip_or_cidr_v4,
  is_valid_ip_or_cidr_v6 = native.is_valid_ip_or_cidr_v6,
  is_valid_ip_or_cidr = native.is_valid_ip_or_cidr,
  -- "ipv6" with more than one ":", "ipv4" for digits and dots, else "name"
  hostname_type = native.hostname_type,
  -- normalize_ipv4("1.2.3.4[:port]") -> "1.2.3.4", port
  normalize_ipv4 = native.normalize_ipv4,
  -- normalize_ipv6("[::1]:80") -> "0000:0000:0000:0000:0000:0000:0000:0001", 80
  normalize_ipv6 = native.normalize_ipv6,
  -- check_hostname("example.com[:port]") -> name, port
  check_hostname = native.check_hostname,
}

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
