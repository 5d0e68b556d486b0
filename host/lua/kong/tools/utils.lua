-- luahost shim for Kong's `kong.tools.utils` (the 2.x module; 3.x turned it
-- into a re-export of kong.tools.table/string/uuid/rand/ip/http).
-- Covers: everything in kong.tools.table, kong.tools.string,
-- kong.tools.uuid, kong.tools.rand, kong.tools.time (time_ns,
-- get_updated_now_ms, nginx_conf_time_to_seconds ...), kong.tools.ip and
-- kong.tools.http (encode_args, decode_args, check_https, ...), plus
-- load_module_if_exists, get_default_exit_body, get_mime_type,
-- get_error_template, topological_sort, yield, deflate_gzip, inflate_gzip;
-- and from the 0.x module (0.5 - 0.14): table_size,
-- get_hostname, check_https(allow_terminated) in its one-argument form.
-- Not covered: get_system_infos, get_system_trusted_certs_filepath,
-- get_hostname (use kong.node.get_hostname), sort_by_handler_priority.

local native = require "luahost.native"

local fmt = string.format
local find = string.find
local sort = table.sort
local concat = table.concat
local insert = table.insert

local _M = {}

for _, name in ipairs({ "http", "table", "string", "uuid", "rand", "time", "ip" }) do
  for k, v in pairs(require("kong.tools." .. name)) do
    _M[k] = v
  end
end

-- table_size(t) (0.5 - 0.14): the number of keys of t, 0 for nil.
function _M.table_size(t)
  local n = 0
  if t then
    for _ in pairs(t) do
      n = n + 1
    end
  end
  return n
end

-- get_hostname() (0.8 - 2.x): the node's host name, kong.node.get_hostname's.
function _M.get_hostname()
  return kong.node.get_hostname()
end

-- check_https: 0.x's check_https(allow_terminated) trusted X-Forwarded-Proto
-- from any client; 1.x+ made it check_https(trusted_ip, allow_terminated).
-- A call with one argument is the 0.x form.
do
  local check_https = _M.check_https
  function _M.check_https(...)
    if select("#", ...) == 1 then
      return check_https(true, (...))
    end
    return check_https(...)
  end
end

-- load_module_if_exists(name): true, module; false, err when the module is
-- missing; raises when it exists but fails to load.
function _M.load_module_if_exists(name)
  local ok, res = xpcall(function() return require(name) end, debug.traceback)
  if ok then
    return true, res
  end
  -- Lua says "module 'x' not found", gopher-lua's stock loader "module x
  -- not found"
  if type(res) == "string" and (find(res, "module '" .. name .. "' not found", nil, true)
                                or find(res, "module " .. name .. " not found", nil, true)) then
    return false, res
  end
  error("error loading module '" .. name .. "':\n" .. tostring(res))
end

do
  local overrides = { [405] = "Method not allowed", [500] = "An unexpected error occurred", [502] = "Bad gateway" }
  local defaults = { [401] = "Unauthorized", [404] = "Not found", [503] = "Service unavailable" }

  function _M.get_default_exit_body(status, message)
    if type(status) ~= "number" then
      error("code must be a number", 2)
    elseif status < 100 or status > 599 then
      error("code must be a number between 100 and 599", 2)
    end
    if status == 204 then
      return nil
    end
    local body = overrides[status] or message or defaults[status]
    if body ~= nil and type(body) ~= "table" then
      body = { message = body }
    end
    return body
  end
end

do
  local JSON = "application/json; charset=utf-8"
  local mime_types = {
    ["application/grpc"] = "",
    ["text/html"] = "text/html; charset=utf-8",
    ["application/json"] = JSON,
    ["text/plain"] = "text/plain; charset=utf-8",
    ["application/xml"] = "application/xml; charset=utf-8",
    application = JSON,
    text = "text/plain; charset=utf-8",
    default = JSON,
  }

  local templates = {
    ["application/grpc"] = "",
    ["text/html"] = "<!doctype html>\n<html>\n  <head>\n    <meta charset=\"utf-8\">\n    <title>Kong Error</title>\n  </head>\n  <body>\n    <h1>Kong Error</h1>\n    <p>%s.</p>\n  </body>\n</html>\n",
    ["application/json"] = "{\n  \"message\":\"%s\"\n}",
    ["text/plain"] = "%s\n",
    ["application/xml"] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<error>\n  <message>%s</message>\n</error>\n",
  }

  -- get_mime_type(content_type, use_default = true)
  function _M.get_mime_type(header, use_default)
    use_default = use_default == nil or use_default
    header = _M.split(_M.strip(header), ";")[1]
    local mime
    local parts = _M.split(header or "", "/")
    if #parts > 1 then
      if parts[2] == "*" then
        mime = parts[1] == "*" and mime_types.default or mime_types[parts[1]]
      else
        mime = mime_types[header]
      end
    end
    if mime or use_default then
      return mime or mime_types.default
    end
    return nil, "could not find MIME type"
  end

  function _M.get_error_template(mime)
    for base, tmpl in pairs(templates) do
      if mime == base or mime == mime_types[base] then
        return tmpl
      end
    end
    return nil, "no template found for MIME type " .. (mime or "empty")
  end
end

-- topological_sort(items, get_neighbors): items ordered so that each comes
-- before the items it points to; nil, "Cycle detected ..." on a cycle.
function _M.topological_sort(items, get_neighbors)
  local pointed_by = {}
  for _, src in ipairs(items) do
    for _, dst in ipairs(get_neighbors(src)) do
      pointed_by[dst] = pointed_by[dst] or {}
      insert(pointed_by[dst], src)
    end
  end
  local sorted, done, active = {}, {}, {}
  local function visit(node)
    if done[node] then
      return true
    end
    if active[node] then
      return nil, "Cycle detected, cannot sort topologically"
    end
    active[node] = true
    for _, n in ipairs(pointed_by[node] or {}) do
      local ok, err = visit(n)
      if not ok then
        return nil, err
      end
    end
    active[node] = false
    done[node] = true
    insert(sorted, 1, node)
    return true
  end
  for _, item in ipairs(items) do
    if not done[item] and not active[item] then
      local ok, err = visit(item)
      if not ok then
        return nil, err
      end
    end
  end
  return sorted
end

-- yield: Kong lets other requests run here; a luahost worker serves one
-- request at a time, so there is nothing to yield to.
function _M.yield()
end

function _M.deflate_gzip(s)
  return native.deflate_gzip(s)
end

function _M.inflate_gzip(gz)
  return native.inflate_gzip(gz)
end

return _M
