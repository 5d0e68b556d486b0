-- spec.helpers look-alike (stands in for Kong's spec/helpers.lua and the
-- spec/internal/*.lua modules it gathers). Covers: get_db_utils (bp from
-- spec.fixtures.blueprints over db; db is kong.db, as a worker's, over
-- the current node's store),
-- each_strategy, all_strategies, for_each_dao, start_kong (fixtures'
-- dns_mock), dns_mock, stop_kong,
-- restart_kong, get_proxy_port/get_admin_port/get_proxy_ip, get_running_conf,
-- prepare_prefix/clean_prefix (nothing to do), validate_plugin_config_schema,
-- kong_exec, wait_for_all_config_update, wait_for_invalidation,
-- clean_logfile, proxy_client, admin_client, http_client (send, request, get, post,
-- put, patch, delete, options, head; res.status, res.headers,
-- res:read_body()), wait_until, pwait_until, unindent, make_yaml_file,
-- deep_sort, setenv/unsetenv, the mock_upstream_* constants, and the
-- assertions Kong registers: res_status, response(r).has.status /
-- .header / .jsonbody, request(r).has.header / .queryparam / .formparam,
-- fail, logfile().has.line (errlog too), contains, gt, certificate/cn,
-- match_re, partial_match, eventually (with_timeout... has_no_error), the gRPC clients (grpc_client,
-- proxy_client_grpc, proxy_client_grpcs: grpcurl run in-process) and the
-- grpcbin_* constants (a grpcbin look-alike), the mock upstream's TLS
-- side (mock_upstream_ssl_*), the redis/zipkin/otelcol/blackhole
-- constants, execute, file/dir/path (pl.* subsets), wait_for_file,
-- wait_for_file_contents, make_temp_dir, generate_keys, http2_client,
-- proxy_client_h2c/h2, make_synchronized_clients, get_kong_workers,
-- reload_kong, kill_all, wait_timer (over the Admin API's GET /timers),
-- https_server (spec.fixtures.https_server), and the eventual assertions
-- of spec.helpers.wait (assert.eventually, with_timeout, ...).
-- signal, signal_workers and wait_pid raise "not supported by luahost".
-- Beside this module: spec.fixtures.ssl, spec.fixtures.blueprints,
-- spec.fixtures.admin_api, spec.helpers.redis_helper,
-- spec.internal.module, and spec.hybrid (which raises "not supported").
-- Nodes run in-process (the test command's Go side).

local go = require "luahost.spechelpers"
local cjson = require "cjson"
local http_tools = require "kong.tools.http"
local blueprints = require "spec.fixtures.blueprints"
-- Kong's spec.helpers requires table.clone (spec/internal/db.lua), which
-- OpenResty's LuaJIT also sets as table.clone: specs call it so
require "table.clone"

local helpers = {}

helpers.https_server = require "spec.fixtures.https_server"
require "spec.helpers.wait"

local MOCK_PORT = go.mock_upstream_port()

helpers.mock_upstream_protocol = "http"
helpers.mock_upstream_host = "127.0.0.1"
helpers.mock_upstream_hostname = "localhost"
helpers.mock_upstream_port = MOCK_PORT
helpers.mock_upstream_url = "http://127.0.0.1:" .. MOCK_PORT
-- the same mock upstream over TLS (test certificate, CN localhost)
local MOCK_SSL_PORT = go.mock_upstream_ssl_port()
helpers.mock_upstream_ssl_protocol = "https"
helpers.mock_upstream_ssl_host = "127.0.0.1"
helpers.mock_upstream_ssl_port = MOCK_SSL_PORT
helpers.mock_upstream_ssl_url = "https://127.0.0.1:" .. MOCK_SSL_PORT
-- the nodes' error log is logs/error.log under their prefix (a temporary
-- directory standing for Kong's servroot, absolute as Kong's conf_loader
-- makes it)
local ERROR_LOG = assert(go.error_log_path())
helpers.test_conf = {
  -- kong_tests.conf's (KONG_DATABASE over it); get_db_utils sets it to
  -- its strategy, as Kong's
  database = os.getenv("KONG_DATABASE") or "postgres",
  plugins = { "bundled" },
  prefix = assert(ERROR_LOG:match("^(.*)/logs/error%.log$"), "the nodes' error log is not under a prefix"),
  proxy_error_log = "logs/error.log",
  admin_error_log = "logs/error.log",
  nginx_err_logs = ERROR_LOG,
  -- Kong's conf_loader's set of plugin names: those the run's host
  -- loaded (kong_tests.conf's plugins, bundled ones luahost lacks a
  -- module for left out, as its nodes leave them out)
  loaded_plugins = kong and kong.configuration and kong.configuration.loaded_plugins or {},
}
helpers.test_conf_path = "spec/kong_tests.conf"

-- Kong's spec/internal/constants.lua, as far as luahost serves them
helpers._constants = {
  BIN_PATH = "bin/kong",
  TEST_CONF_PATH = helpers.test_conf_path,
  MOCK_UPSTREAM_PROTOCOL = "http",
  MOCK_UPSTREAM_SSL_PROTOCOL = "https",
  MOCK_UPSTREAM_HOST = "127.0.0.1",
  MOCK_UPSTREAM_HOSTNAME = "localhost",
  MOCK_UPSTREAM_PORT = MOCK_PORT,
  MOCK_UPSTREAM_SSL_PORT = MOCK_SSL_PORT,
  KONG_VERSION = require("kong.meta")._VERSION,
  EXTERNAL_PLUGINS_PATH = "./spec/fixtures/external_plugins",
  -- services specs expect beside the node: KONG_SPEC_TEST_* as Kong's
  REDIS_HOST = os.getenv("KONG_SPEC_TEST_REDIS_HOST") or "localhost",
  REDIS_PORT = tonumber(os.getenv("KONG_SPEC_TEST_REDIS_PORT") or 6379),
  REDIS_SSL_PORT = tonumber(os.getenv("KONG_SPEC_TEST_REDIS_SSL_PORT") or 6380),
  REDIS_AUTH_PORT = tonumber(os.getenv("KONG_SPEC_TEST_REDIS_AUTH_PORT") or 6385),
  REDIS_SSL_SNI = os.getenv("KONG_SPEC_TEST_REDIS_SSL_SNI") or "test-redis.example.com",
  ZIPKIN_HOST = os.getenv("KONG_SPEC_TEST_ZIPKIN_HOST") or "localhost",
  ZIPKIN_PORT = tonumber(os.getenv("KONG_SPEC_TEST_ZIPKIN_PORT")) or 9411,
  OTELCOL_HOST = os.getenv("KONG_SPEC_TEST_OTELCOL_HOST") or "localhost",
  OTELCOL_HTTP_PORT = tonumber(os.getenv("KONG_SPEC_TEST_OTELCOL_HTTP_PORT")) or 4318,
  OTELCOL_ZPAGES_PORT = tonumber(os.getenv("KONG_SPEC_TEST_OTELCOL_ZPAGES_PORT")) or 55679,
  OTELCOL_FILE_EXPORTER_PATH = os.getenv("KONG_SPEC_TEST_OTELCOL_FILE_EXPORTER_PATH")
    or "./tmp/otel/file_exporter.json",
  -- an address that never answers (connect timeouts)
  BLACKHOLE_HOST = "10.255.255.255",
}
do
  local c = helpers._constants
  helpers.bin_path = c.BIN_PATH
  helpers.external_plugins_path = c.EXTERNAL_PLUGINS_PATH
  helpers.redis_host = c.REDIS_HOST
  helpers.redis_port = c.REDIS_PORT
  helpers.redis_ssl_port = c.REDIS_SSL_PORT
  helpers.redis_auth_port = c.REDIS_AUTH_PORT
  helpers.redis_ssl_sni = c.REDIS_SSL_SNI
  helpers.zipkin_host = c.ZIPKIN_HOST
  helpers.zipkin_port = c.ZIPKIN_PORT
  helpers.otelcol_host = c.OTELCOL_HOST
  helpers.otelcol_http_port = c.OTELCOL_HTTP_PORT
  helpers.otelcol_zpages_port = c.OTELCOL_ZPAGES_PORT
  helpers.otelcol_file_exporter_path = c.OTELCOL_FILE_EXPORTER_PATH
  helpers.blackhole_host = c.BLACKHOLE_HOST
end

-- Penlight, as Kong's helpers re-export it (luahost's pl.* subsets)
helpers.dir = require "pl.dir"
helpers.path = require "pl.path"
helpers.file = require "pl.file"

-- the node start_kong started (ports), and the staging node's
local current = nil
-- the configuration start_kong was last given (reload_kong)
local last_conf = nil

----------------------------------------------------------------------
-- strategies

local STRATEGIES = { "postgres", "off" }

-- the strategies each_strategy (db_only) and all_strategies offer:
-- luahost test --strategy (or LUAHOST_STRATEGY) narrows them, "off" left
-- out of each_strategy's; Kong's KONG_DATABASE is both lists, as it is
local function selected(db_only)
  local only = go.strategy()
  if only == "" then
    only = os.getenv("LUAHOST_STRATEGY")
  end
  if not only or only == "" then
    local env = os.getenv("KONG_DATABASE")
    if env and env ~= "" then
      return { env }
    end
  end
  local list = (only and only ~= "") and { only } or STRATEGIES
  if not db_only then
    return list
  end
  local out = {}
  for _, s in ipairs(list) do
    if s ~= "off" then out[#out + 1] = s end
  end
  return out
end

-- strategies given: those of them on offer (the list is filtered in
-- place, as Kong's)
local function strategies_of(given, db_only)
  local list = selected(db_only)
  if not given then
    return list
  end
  local set = {}
  for _, s in ipairs(list) do set[s] = true end
  for i = #given, 1, -1 do
    if not set[given[i]] then table.remove(given, i) end
  end
  return given
end

-- both iterate like ipairs: for _, strategy in helpers.each_strategy()
function helpers.each_strategy(strategies)
  return ipairs(strategies_of(strategies, true))
end

function helpers.all_strategies(strategies)
  return ipairs(strategies_of(strategies, false))
end

helpers.for_each_dao = function(fn)
  for _, s in ipairs(selected(true)) do fn(s) end
end

----------------------------------------------------------------------
-- db and blueprints

-- db is kong.db over the current node's store (go.db: the binding a
-- worker's kong.db is, made in this state), the node get_db_utils or
-- start_kong started last; a write is seen by a running node's next
-- request

function helpers.get_db_utils(strategy, tables, plugins)
  strategy = strategy or helpers.test_conf.database
  if strategy ~= "postgres" and strategy ~= "off" then
    error("unknown strategy: " .. tostring(strategy), 2)
  end
  if tables ~= nil and type(tables) ~= "table" then
    error("arg #2 must be a list of tables to truncate", 2)
  end
  if plugins ~= nil and type(plugins) ~= "table" then
    error("arg #3 must be a list of plugins to enable", 2)
  end
  helpers.test_conf.database = strategy
  local node, err = go.db_utils(strategy, plugins or {})
  if not node then
    error(err, 2)
  end
  current = node
  local db, err = go.db()
  if not db then
    error(err, 2)
  end
  -- as Kong's: the spec's kong.db is this db (its cache keys are the
  -- node's)
  kong.db = db
  for _, t in ipairs(tables or {}) do
    if db[t] and db[t].schema then
      db[t]:truncate()
    end
  end
  return blueprints.new(db), db
end

----------------------------------------------------------------------
-- nodes

helpers.dns_mock = require "spec.internal.dns"

-- Kong's start_kong(env, tables, preserve_prefix, fixtures): fixtures'
-- dns_mock answers the node's DNS lookups; http_mock and stream_mock are
-- nginx server blocks, which luahost cannot serve (empty ones are fine)
function helpers.start_kong(conf, _, _, fixtures)
  fixtures = fixtures or {}
  if fixtures.dns_mock ~= nil then
    assert(getmetatable(fixtures.dns_mock) == helpers.dns_mock,
           "expected dns_mock to be of a helpers.dns_mock class")
  end
  for _, kind in ipairs({ "http_mock", "stream_mock" }) do
    if next(fixtures[kind] or {}) ~= nil then
      return nil, "start_kong: fixtures." .. kind .. " (nginx server blocks) is not served by luahost;" ..
        " use spec.helpers.http_mock or tcp_server/udp_server"
    end
  end
  local c = {}
  for k, v in pairs(conf or {}) do
    if type(v) == "table" then
      v = table.concat(v, ",")
    end
    -- Kong's kong_exec: plugins false is none given (the default list)
    if k ~= "plugins" or v then
      c[k] = tostring(v)
    end
  end
  local node, err = go.start_kong(c, fixtures.dns_mock)
  if not node then
    return nil, err
  end
  current = node
  last_conf = conf or {}
  for k, v in pairs(conf or {}) do
    helpers.test_conf[k] = v
  end
  return true
end

-- Kong's stop_kong(prefix, preserve_prefix): the node's prefix goes (its
-- clean_prefix) unless preserve_prefix or KONG_DONT_CLEAN; what a spec sees
-- of it is the error log, emptied here, so a node started next begins with
-- none of the lines of the one before
function helpers.stop_kong(_, preserve_prefix)
  current = nil
  local ok, err = go.stop_kong()
  if not (preserve_prefix or os.getenv("KONG_DONT_CLEAN") or os.getenv("KONG_TEST_DONT_CLEAN")) then
    helpers.clean_logfile()
  end
  return ok, err
end

-- with database = off the running node's entities carry over (exported
-- as its declarative configuration), as Kong's reuses its prefix's
function helpers.restart_kong(conf, tables, fixtures)
  local c = {}
  for k, v in pairs(conf or {}) do c[k] = v end
  local db = c.database or (last_conf and last_conf.database)
  if current and db == "off" and c.declarative_config == nil and c.declarative_config_string == nil then
    local out, err = go.export()
    if not out then
      return nil, err
    end
    c.declarative_config_string = out
  end
  helpers.stop_kong(nil, true) -- as Kong's, which keeps the prefix
  return helpers.start_kong(c, tables, nil, fixtures)
end

-- Kong's get_proxy_port(ssl, http2): the "http2 ssl" entry for ssl, the
-- cleartext http2 one (Kong's 9002) for http2, else the plain one
function helpers.get_proxy_port(ssl, http2)
  if not current then return nil end
  if ssl then return current.proxy_ssl_port end
  if http2 then return current.proxy_h2_port end
  return current.proxy_port
end
function helpers.get_admin_port(ssl)
  return current and (ssl and current.admin_ssl_port or current.admin_port)
end
function helpers.get_proxy_ip() return "127.0.0.1" end
function helpers.get_admin_ip() return "127.0.0.1" end

-- nodes run in-process with no prefix directory: these have nothing to do
function helpers.prepare_prefix() return true end
function helpers.clean_prefix() return true end

-- the configuration the running node was started with, as far as known
function helpers.get_running_conf()
  return helpers.test_conf
end

----------------------------------------------------------------------
-- HTTP client objects

local function lookup(t, name)
  name = name:lower()
  for k, v in pairs(t) do
    if type(k) == "string" and k:lower() == name then return v, k end
  end
end

-- response headers: any case (or _ for -) finds, replaces or clears
-- them, as with lua-resty-http
local headers_mt = {
  __index = function(t, k)
    if type(k) == "string" then
      return rawget(t, k:lower()) or rawget(t, (k:lower():gsub("_", "-")))
    end
  end,
  -- a write in any case is to the header's field, as lua-resty-http's
  -- headers table has it (res.headers["Date"] = nil clears date)
  __newindex = function(t, k, v)
    if type(k) == "string" then
      k = (k:lower():gsub("_", "-"))
    end
    rawset(t, k, v)
  end,
}

local client_mt = {}
client_mt.__index = client_mt

-- the User-Agent of the lua-resty-http Kong pins (0.17.2)
local USER_AGENT = "lua-resty-http/0.17.2 (Lua) ngx_lua/" .. tostring(ngx and ngx.config and ngx.config.ngx_lua_version)

-- the boundary Kong's client writes between multipart/form-data parts
local MULTIPART_BOUNDARY = "8fd84e9444e3946c"

-- a table body is encoded by the request's Content-Type as Kong's client
-- does: JSON, a form (raw values, as Kong's encode_args(body, true)) or
-- multipart/form-data; under any other (or no) Content-Type it is sent as
-- lua-resty-http sends a table, its array part's strings one after the
-- other (a { key = value } table: an empty body). No Content-Type is added.
local function encode_body(body, headers, no_array_indexes)
  local ct, ct_name = lookup(headers, "content-type")
  ct = ct or ""
  if ct:find("application/json", 1, true) then
    return cjson.encode(body)
  elseif ct:find("www-form-urlencoded", 1, true) then
    return http_tools.encode_args(body, true, no_array_indexes)
  elseif ct:find("multipart/form-data", 1, true) then
    local parts = {}
    for k, v in pairs(body) do
      parts[#parts + 1] = "--" .. MULTIPART_BOUNDARY .. "\r\nContent-Disposition: form-data; name=\"" .. k
        .. "\"\r\n\r\n" .. tostring(v) .. "\r\n"
    end
    if #parts > 0 then
      parts[#parts + 1] = "--" .. MULTIPART_BOUNDARY .. "--\r\n"
    end
    if not ct:find("boundary=", 1, true) then
      headers[ct_name] = ct .. "; boundary=" .. MULTIPART_BOUNDARY
    end
    return table.concat(parts)
  end
  local parts = {}
  for i, v in ipairs(body) do parts[i] = tostring(v) end
  return table.concat(parts)
end

-- raw: lua-resty-http's own request(params), which Kong's client:send
-- wraps: a table body is its array part's strings whatever the
-- Content-Type, a query table is encoded as ngx.encode_args does
local function do_request(self, opts, raw)
  opts = opts or {}
  local headers = {}
  for k, v in pairs(opts.headers or {}) do headers[k] = v end
  -- lua-resty-http's own User-Agent unless the spec gives one
  if lookup(headers, "user-agent") == nil then
    headers["User-Agent"] = USER_AGENT
  end
  local body = opts.body
  if type(body) == "table" then
    body = encode_body(body, raw and {} or headers, opts.no_array_indexes)
  elseif type(body) == "number" then
    -- lua-resty-http hands a number to the socket's send, which writes
    -- it as a string
    body = tostring(body)
  end
  -- a query table is appended as Kong's client does (the path is assumed
  -- to have none); a string is appended as lua-resty-http does
  local path = opts.path or "/"
  if type(opts.query) == "table" then
    path = path .. "?" .. (raw and ngx.encode_args(opts.query) or http_tools.encode_args(opts.query))
  elseif opts.query ~= nil and opts.query ~= "" then
    local q = tostring(opts.query)
    path = path .. (q:sub(1, 1) == "?" and "" or "?") .. q
  end
  local url = (self.scheme or "http") .. "://" .. self.host .. ":" .. self.port .. path
  local status, res_headers, res_body, client_addr = go.request(opts.method or "GET", url, headers, body,
    self.ssl_server_name, self.timeout, opts.version)
  if not status then
    return nil, res_headers
  end
  local res = {
    status = status,
    headers = setmetatable(res_headers, headers_mt),
    has_body = res_body ~= "",
    _body = res_body,
    -- a response of the proxy: a failed assertion on it shows the plugin
    -- handlers that ran for it
    _trace_key = self.proxied and client_addr or nil,
  }
  function res:read_body()
    return self._body
  end
  return res
end

function client_mt:send(opts)
  return do_request(self, opts, false)
end

-- lua-resty-http's request(params), which specs call on Kong's clients
-- too; a body under Transfer-Encoding: chunked is the chunked encoding
-- itself, sent as it is
function client_mt:request(opts)
  return do_request(self, opts, true)
end

for _, m in ipairs({ "get", "post", "put", "patch", "delete", "options", "head" }) do
  client_mt[m] = function(self, path, opts)
    local o = {}
    for k, v in pairs(opts or {}) do o[k] = v end
    o.method = m:upper()
    o.path = path
    -- Kong's shortcuts assert: a failed request raises
    return assert(self:send(o))
  end
end

function client_mt:close() return true end
-- timeouts in ms, as lua-resty-http's; a request's answer must come
-- within the read timeout
function client_mt:set_timeout(ms) self.timeout = ms end
function client_mt:set_timeouts(_, _, read_ms) self.timeout = read_ms end

-- timeout (ms): 10 s by default, as Kong's http_client
function helpers.http_client(host, port, timeout)
  local scheme, sni
  if type(host) == "table" then
    -- Kong's http_client_opts: connect/send/read timeouts win over timeout
    local o = host
    host, port, scheme, sni = o.host, o.port, o.scheme, o.ssl_server_name
    timeout = (o.connect_timeout and o.send_timeout and o.read_timeout) or o.timeout
  end
  return setmetatable({ host = host, port = port, timeout = timeout or 10000, scheme = scheme,
    ssl_server_name = sni }, client_mt)
end

-- the proxy and Admin API clients: 60 s by default, as Kong's
-- forced_port/forced_ip: another address than the node's proxy, as Kong's
function helpers.proxy_client(timeout, forced_port, forced_ip)
  assert(forced_port or current and current.proxy_port, "proxy_client: start_kong first")
  local c = helpers.http_client(forced_ip or "127.0.0.1", forced_port or current.proxy_port, timeout or 60000)
  c.proxied = true
  return c
end

-- over the node's "http2 ssl" entries (Kong's 9443 and 9444), verifying
-- nothing, as Kong's helpers; sni is the TLS server name sent
function helpers.proxy_ssl_client(timeout, sni)
  assert(current and current.proxy_ssl_port, "proxy_ssl_client: start_kong first")
  local c = helpers.http_client({ scheme = "https", host = "127.0.0.1", port = current.proxy_ssl_port,
    timeout = timeout or 60000, ssl_server_name = sni })
  c.proxied = true
  return c
end

function helpers.admin_ssl_client(timeout)
  assert(current and current.admin_ssl_port, "admin_ssl_client: start_kong first")
  return helpers.http_client({ scheme = "https", host = "127.0.0.1", port = current.admin_ssl_port,
    timeout = timeout or 60000 })
end

-- forced_port: another port of 127.0.0.1 instead of the node's
function helpers.admin_client(timeout, forced_port)
  assert(forced_port or current and current.admin_port, "admin_client: start_kong first")
  return helpers.http_client("127.0.0.1", forced_port or current.admin_port, timeout or 60000)
end

----------------------------------------------------------------------
-- gRPC: Kong's grpcurl clients and the grpcbin constants. The command
-- line Kong hands to a shell is built the same way and run by Go in-process
-- (luahost.spechelpers.grpcurl); grpcbin is a look-alike the run starts
-- the first time a spec reads one of its constants.

helpers.mock_grpc_upstream_proto_path = "./spec/fixtures/grpc/hello.proto"
helpers._constants.MOCK_GRPC_UPSTREAM_PROTO_PATH = helpers.mock_grpc_upstream_proto_path

-- KONG_SPEC_TEST_GRPCBIN_* win, as in Kong's constants; another host
-- without ports gets Kong's defaults (9000, 9001)
local grpcbin_consts
local function grpcbin_constants()
  if grpcbin_consts then return grpcbin_consts end
  local host = os.getenv("KONG_SPEC_TEST_GRPCBIN_HOST")
  local port = tonumber(os.getenv("KONG_SPEC_TEST_GRPCBIN_PORT") or "")
  local ssl_port = tonumber(os.getenv("KONG_SPEC_TEST_GRPCBIN_SSL_PORT") or "")
  if host and host ~= "" then
    port, ssl_port = port or 9000, ssl_port or 9001
  else
    host = "localhost"
    if not (port and ssl_port) then
      local p, sp = go.grpcbin_ports()
      if not p then error("grpcbin: " .. tostring(sp), 3) end
      port, ssl_port = port or p, ssl_port or sp
    end
  end
  grpcbin_consts = {
    grpcbin_host = host,
    grpcbin_port = port,
    grpcbin_ssl_port = ssl_port,
    grpcbin_url = string.format("grpc://%s:%d", host, port),
    grpcbin_ssl_url = string.format("grpcs://%s:%d", host, ssl_port),
  }
  return grpcbin_consts
end

local grpcbin_names = {
  grpcbin_host = "grpcbin_host", grpcbin_port = "grpcbin_port", grpcbin_ssl_port = "grpcbin_ssl_port",
  grpcbin_url = "grpcbin_url", grpcbin_ssl_url = "grpcbin_ssl_url",
  GRPCBIN_HOST = "grpcbin_host", GRPCBIN_PORT = "grpcbin_port", GRPCBIN_SSL_PORT = "grpcbin_ssl_port",
}
local function lazy_grpcbin(t)
  local mt = getmetatable(t) or {}
  local index = mt.__index
  mt.__index = function(self, k)
    local name = grpcbin_names[k]
    if name then return grpcbin_constants()[name] end
    if type(index) == "function" then return index(self, k) end
    if index then return index[k] end
  end
  return setmetatable(t, mt)
end
lazy_grpcbin(helpers)
lazy_grpcbin(helpers._constants)

-- grpcurl's flags from { ["-flag"] = value }: a string value follows its
-- flag, true (or any other non-string) gives the flag alone, false leaves
-- it out
local function grpcurl_flags(opts)
  local out = {}
  for flag, v in pairs(opts) do
    if v ~= false then
      out[#out + 1] = flag .. " " .. (type(v) == "string" and v or "")
    end
  end
  return table.concat(out, " ")
end

-- client({ service = "pkg.Service.Method", body = table or JSON text,
-- opts = { ... } }) -> true, output | nil, output (stdout then stderr);
-- body goes to -d in single quotes, opts over the client's
function helpers.grpc_client(host, port, opts)
  host = assert(host)
  port = assert(tostring(port))
  opts = opts or {}
  if not opts["-proto"] then
    opts["-proto"] = helpers.mock_grpc_upstream_proto_path
  end
  local target = host .. ":" .. port
  return setmetatable({ opts = opts }, {
    __call = function(self, args)
      local service = assert(args.service)
      local call_opts = args.opts or {}
      if args.body ~= nil then
        local body = args.body
        if type(body) == "table" then body = cjson.encode(body) end
        call_opts["-d"] = "'" .. tostring(body) .. "'"
      end
      local merged = {}
      for k, v in pairs(self.opts) do merged[k] = v end
      for k, v in pairs(call_opts) do merged[k] = v end
      local line = "bin/grpcurl " .. grpcurl_flags(merged) .. " " .. target .. " " .. service
      local code, out, err = go.grpcurl(line)
      if code == 0 then
        return true, out .. err
      end
      return nil, out .. err
    end,
  })
end

-- over the node's cleartext http2 entry (Kong's 9002)
function helpers.proxy_client_grpc(host, port)
  host = host or helpers.get_proxy_ip(false, true)
  port = port or helpers.get_proxy_port(false, true)
  assert(port, "proxy_client_grpc: start_kong first")
  return helpers.grpc_client(host, port, { ["-plaintext"] = true })
end

-- over the node's "http2 ssl" entry (Kong's 9443), verifying nothing
function helpers.proxy_client_grpcs(host, port)
  host = host or helpers.get_proxy_ip(true, true)
  port = port or helpers.get_proxy_port(true, true)
  assert(port, "proxy_client_grpcs: start_kong first")
  return helpers.grpc_client(host, port, { ["-insecure"] = true })
end

----------------------------------------------------------------------
-- waiting (no sleeps: a condition is re-checked until true or timeout)

local function now()
  return ngx and ngx.now and (ngx.update_time and ngx.update_time() or true) and ngx.now() or os.time()
end

function helpers.wait_until(f, timeout, step)
  timeout = timeout or 5
  local deadline = now() + timeout
  local res, err
  while true do
    local ok
    ok, res, err = pcall(f)
    if ok and res then
      return res
    end
    -- an error ends the wait at once, as Kong's (its condition "truthy"
    -- does not ignore exceptions; pwait_until is the one that retries)
    if not ok then
      error(res, 0)
    end
    -- the deadline is checked before sleeping, as Kong's: a wait that
    -- sleeps always tries once more after its sleep
    if now() >= deadline then
      break
    end
    if ngx and ngx.sleep then
      ngx.sleep(step or 0.05)
    end
  end
  error("wait_until() timeout" .. (err and (": " .. tostring(err)) or "") .. " (after delay: " .. timeout .. "s)", 2)
end

-- nodes run in-process: a write is applied when the call returns, and
-- these make sure the router and plugins iterator have been rebuilt
function helpers.wait_for_all_config_update()
  assert(go.sync())
end

function helpers.wait_for_invalidation()
  assert(go.sync())
end

function helpers.pwait_until(f, timeout, step)
  -- the last error is wait_until's timeout message's
  return helpers.wait_until(function()
    local ok, err = pcall(f)
    return ok, err
  end, timeout, step)
end

----------------------------------------------------------------------
-- test servers (Kong's spec/internal/server.lua): goroutines of luahost
-- stand for Kong's llthreads2 threads; join() returns true and what the
-- server returned

local thread_mt = {}
thread_mt.__index = thread_mt
function thread_mt:join() return go.thread_join(self.id) end
function thread_mt:alive() return go.thread_alive(self.id) end
function thread_mt:start() return self end

local function thread(id, err, level)
  if not id then
    error(err, level + 1)
  end
  return setmetatable({ id = id }, thread_mt)
end

-- tcp_server(port, opts): accepts opts.requests (1) connections, echoes a
-- line from each (with opts.prefix), over TLS with a test certificate
-- (CN localhost) when opts.tls; opts.timeout (60 s) bounds each wait;
-- join() gives the last line read (nil when the last connection failed),
-- or "timeout"
function helpers.tcp_server(port, opts)
  opts = opts or {}
  local id, err = go.tcp_server(port, opts.requests or 1, opts.timeout or 60, opts.prefix or "",
    opts.tls and true or false)
  return thread(id, err, 2)
end

-- kill_tcp_server(port) -> oks, fails
function helpers.kill_tcp_server(port)
  local oks, fails = go.kill_tcp_server(port)
  if not oks then
    error(fails, 2)
  end
  return oks, fails
end

-- udp_server(port, n, timeout): join() gives the packet (n = 1) or the
-- list of packets, and an error
function helpers.udp_server(port, n, timeout)
  local id, err = go.udp_server(port or MOCK_PORT, n or 1, timeout or 360)
  return thread(id, err, 2)
end

-- a free TCP port (Kong's get_available_port)
function helpers.get_available_port()
  return go.available_port()
end

----------------------------------------------------------------------
-- small utilities

function helpers.unindent(str, concat_newlines, spaced_newlines)
  str = str:match("^%s*\n(.*)$") or str
  local prefix
  for line in str:gmatch("[^\n]*") do
    if line:find("%S") then
      local p = line:match("^(%s*)")
      if not prefix or #p < #prefix then prefix = p end
    end
  end
  prefix = prefix or ""
  local out = {}
  for line in (str .. "\n"):gmatch("([^\n]*)\n") do
    if line:sub(1, #prefix) == prefix then line = line:sub(#prefix + 1) end
    out[#out + 1] = line
  end
  while #out > 0 and out[#out]:match("^%s*$") do out[#out] = nil end
  local sep = "\n"
  if concat_newlines then sep = spaced_newlines and " " or "" end
  return table.concat(out, sep)
end

-- without content, the current store exported (Kong's db_export), as
-- the plugin template's `declarative_config = helpers.make_yaml_file()`
function helpers.make_yaml_file(content, filename)
  filename = filename or os.tmpname() .. ".yml"
  if content == nil then
    local out, err = go.export()
    if not out then
      error(err, 2)
    end
    content = out
  else
    content = helpers.unindent(content) .. "\n"
  end
  local f = assert(io.open(filename, "w"))
  f:write(content)
  f:close()
  return filename
end

-- deep_sort(t): t's arrays sorted in place, nested ones first, in Kong's
-- order: by type name, then by value (numbers as numbers), a table by its
-- first element, nil as ""; null values compare equal
local function sort_less(a, b)
  if a == nil then a = "" end
  if b == nil then b = "" end
  local ta, tb = type(a), type(b)
  if ta ~= tb then
    return ta < tb
  end
  if ta == "table" then
    return sort_less(a[1], b[1])
  end
  if ta == "userdata" or ta == "boolean" then
    return false
  end
  return a < b
end

function helpers.deep_sort(t)
  if type(t) == "table" then
    for _, v in pairs(t) do helpers.deep_sort(v) end
    table.sort(t, sort_less)
  end
  return t
end

-- kong_exec("config parse kong.yml", { database = "off" }): the luahost
-- command line, in-process; returns ok, stderr, stdout as Kong's does
local function split_args(cmd)
  local args = {}
  local i, n = 1, #cmd
  while i <= n do
    local c = cmd:sub(i, i)
    if c:match("%s") then
      i = i + 1
    else
      local buf = {}
      while i <= n and not cmd:sub(i, i):match("%s") do
        c = cmd:sub(i, i)
        if c == '"' or c == "'" then
          local j = cmd:find(c, i + 1, true) or (n + 1)
          buf[#buf + 1] = cmd:sub(i + 1, j - 1)
          i = j + 1
        else
          buf[#buf + 1] = c
          i = i + 1
        end
      end
      args[#args + 1] = table.concat(buf)
    end
  end
  return args
end

-- env_vars, Kong's string of shell assignments put before the command
-- (`NAME="value" NAME2='v'`): the names and values, in order
local function env_assignments(env_vars)
  local out = {}
  for _, word in ipairs(split_args(env_vars or "")) do
    local k, v = word:match("^([%a_][%w_]*)=(.*)$")
    if not k then
      error("kong_exec: env_vars must be NAME=value assignments, got '" .. word .. "'", 3)
    end
    out[#out + 1] = { k, v }
  end
  return out
end

-- shell_result: a command's outcome as Kong's helpers give it: ok, stderr,
-- stdout (nil when not ok), or with returns: ok, exit code, stdout, stderr
local function shell_result(code, stdout, stderr, returns)
  local ok = code == 0
  if returns then
    return ok, code, stdout, stderr
  end
  return ok, stderr, ok and stdout or nil
end

-- Kong's kong_exec(cmd, env, returns, env_vars): env's keys are KONG_<KEY>
-- variables, env_vars' assignments plain ones, both for the command's
-- duration; ok, stderr, stdout (stdout nil when not ok), or with returns
-- ok, exit code, stdout, stderr
function helpers.kong_exec(cmd, env, returns, env_vars)
  local e = {}
  for k, v in pairs(env or {}) do
    if type(v) == "table" then v = table.concat(v, ",") end
    e[k] = tostring(v)
  end
  local saved = {}
  for i, kv in ipairs(env_assignments(env_vars)) do
    saved[i] = { kv[1], os.getenv(kv[1]) }
    go.setenv(kv[1], kv[2])
  end
  local code, stdout, stderr = go.exec(split_args(cmd or ""), e)
  for i = #saved, 1, -1 do
    go.setenv(saved[i][1], saved[i][2])
  end
  return shell_result(code, stdout, stderr, returns)
end


-- the plugin template's unit spec: config run through a plugins entity
-- with schema_def as its subschema; the entity, or nil and the error table
function helpers.validate_plugin_config_schema(config, schema_def, extra_fields)
  return require("luahost.schema").validate_plugin_config_schema(config, schema_def, extra_fields)
end

function helpers.setenv(k, v) return go.setenv(k, v) end
function helpers.unsetenv(k) return go.setenv(k, nil) end

function helpers.get_version() return require("kong.meta")._VERSION end

----------------------------------------------------------------------
-- shell, files and processes (Kong's spec/internal/shell.lua, wait.lua,
-- misc.lua, cmd.lua)

-- execute(cmd, returns): cmd run by /bin/sh; ok, stderr, stdout (stdout
-- nil when not ok), or with returns: ok, exit code, stdout, stderr
function helpers.execute(cmd, returns)
  local code, stdout, stderr = go.shell(cmd)
  if not code then
    -- the shell did not start: resty.shell's nil and reason
    if returns then return false, nil, nil, stdout end
    return false, stdout, nil
  end
  return shell_result(code, stdout, stderr, returns)
end

-- kill_all(prefix, timeout): Kong's kills the kong_tests.conf node's
-- nginx by its pid file; luahost's nodes run in-process, so it stops the
-- running node (stop_kong)
function helpers.kill_all()
  if current then
    helpers.stop_kong()
  end
end

-- wait_for_file(mode, path, timeout): until lfs says path is a mode
-- ("file", "directory", ...)
function helpers.wait_for_file(mode, path, timeout)
  local lfs = require "lfs"
  helpers.pwait_until(function()
    local m, err = lfs.attributes(path, "mode")
    assert(m == mode, string.format("failed to wait for the mode (%s) of '%s': %s", mode, path, tostring(err)))
  end, timeout or 10)
end

-- wait_for_file_contents(fname, timeout) -> the file's contents, once it
-- exists and is not empty (asserts otherwise after timeout)
function helpers.wait_for_file_contents(fname, timeout)
  assert(type(fname) == "string", "filename must be a string")
  timeout = timeout or 10
  assert(type(timeout) == "number" and timeout >= 0, "timeout must be nil or a number >= 0")
  local data = helpers.file.read(fname)
  if data and #data > 0 then return data end
  pcall(helpers.wait_until, function()
    data = helpers.file.read(fname)
    return data and #data > 0
  end, timeout)
  assert(data, "file (" .. fname .. ") does not exist or is not readable after " .. tostring(timeout) .. " seconds")
  assert(#data > 0, "file (" .. fname .. ") exists but is empty after " .. tostring(timeout) .. " seconds")
  return data
end

-- make_temp_dir() -> a new empty directory, and a function removing it
function helpers.make_temp_dir()
  local lfs = require "lfs"
  for _ = 1, 100 do
    local name = os.tmpname()
    os.remove(name)
    name = name .. ".kong-test"
    if lfs.mkdir(name) then
      return name, function() helpers.dir.rmtree(name) end
    end
  end
  error("failed to create temporary directory", 2)
end

-- generate_keys(fmt, typ): fmt "JWK" (default) or "PEM", typ "RSA"
-- (2048 bits, default) or "EC" (P-256) -> public, private; nil and
-- "unsupported key type" for another typ
function helpers.generate_keys(fmt, typ)
  return go.generate_keys(fmt or "JWK", typ or "RSA")
end

-- get_kong_workers(expected_total): the worker pids the Admin API's GET /
-- lists (luahost's workers are goroutines of one process: its pid, once)
function helpers.get_kong_workers(expected_total)
  local workers
  helpers.wait_until(function()
    local ok, admin = pcall(helpers.admin_client)
    if not ok then return false end
    local res = admin:send({ method = "GET", path = "/" })
    admin:close()
    if not res or res.status ~= 200 then return false end
    local json = cjson.decode(res:read_body())
    workers = {}
    for _, pid in ipairs(json.pids and json.pids.workers or {}) do
      if pid ~= cjson.null then workers[#workers + 1] = pid end
    end
    if expected_total and #workers ~= expected_total then
      return nil, ("expected %s worker pids, got %s"):format(expected_total, #workers)
    elseif #workers == 0 then
      return nil, "GET / returned no worker pids"
    end
    return true
  end, 10)
  return workers
end

-- reload_kong(cmd, env): Kong's runs `kong reload` and waits for new
-- workers; luahost's node is stopped and started again with the
-- configuration start_kong was given, env's keys over it -> ok, err
function helpers.reload_kong(_, env)
  local conf = {}
  for k, v in pairs(last_conf or {}) do conf[k] = v end
  for k, v in pairs(env or {}) do conf[k] = v end
  return helpers.restart_kong(conf)
end

local function not_supported(name, why)
  return function()
    error(name .. ": not supported by luahost: " .. why, 2)
  end
end

-- wait_timer(pattern, plain, mode, timeout, admin_client_timeout,
-- forced_admin_port): polls the Admin API's GET /timers (kong.timer's
-- stats, each timer by name) until the timers whose names match pattern
-- (string.find, plain when plain is truthy) are in mode's state, or raises
-- wait_until's timeout error after timeout seconds (2 by default). What a
-- poll sees is kept per worker (the body's worker.id), as Kong's helper:
--   "any-running"  a matched timer was seen running
--   "all-running"  at the last poll of a worker, all its matched timers ran
--   "any-finish"   a worker was seen with no matched timer left
--   "all-finish"   at the last poll of a worker, it had none left
--   "worker-wide-all-finish"  every worker had none left at its last poll
-- A node answers as one worker with all its timers, so "all-finish" and
-- "worker-wide-all-finish" agree. timer-ng forgets a one-shot once it has
-- run: no matched timer means they finished (or never started).
local WAIT_TIMER_MODES = {
  ["any-running"] = true, ["all-running"] = true, ["any-finish"] = true,
  ["all-finish"] = true, ["worker-wide-all-finish"] = true,
}

function helpers.wait_timer(pattern, plain, mode, timeout, admin_client_timeout, forced_admin_port)
  if not WAIT_TIMER_MODES[mode] then
    error("wait_timer: unknown mode " .. tostring(mode), 2)
  end
  local workers -- worker id -> what its polls showed
  local client
  local function seen(key)
    for _, w in pairs(workers) do
      if w[key] then return true end
    end
    return false
  end
  local ok, err = pcall(helpers.wait_until, function()
    if client then client:close() end
    client = helpers.admin_client(admin_client_timeout, forced_admin_port)
    local res = assert(client:send({ method = "GET", path = "/timers" }))
    local body = res:read_body()
    if res.status ~= 200 then
      error("GET /timers answered " .. tostring(res.status) .. ": " .. tostring(body))
    end
    local json = cjson.decode(body)
    if not workers then
      workers = {}
      for id = 0, json.worker.count - 1 do workers[id] = {} end
    end
    local w = workers[json.worker.id] or {}
    workers[json.worker.id] = w
    local matched, running = 0, 0
    for name, timer in pairs(json.stats.timers) do
      if string.find(name, pattern, 1, plain) then
        matched = matched + 1
        if timer.is_running then running = running + 1 end
      end
    end
    if matched == 0 then
      w.finished, w.any_finished = true, true
    else
      w.finished = false
      w.all_running = running == matched
      w.any_running = w.any_running or running > 0
    end
    local done
    if mode == "any-running" then done = seen("any_running")
    elseif mode == "all-running" then done = seen("all_running")
    elseif mode == "any-finish" then done = seen("any_finished")
    elseif mode == "all-finish" then done = seen("finished")
    else
      done = true
      for _, each in pairs(workers) do
        done = done and each.finished
      end
    end
    if done then return true end
    -- the last poll, for wait_until's timeout message
    return false, ("%s: worker %s had %d timer(s) matching %q, %d running"):format(mode,
      tostring(json.worker.id), matched, pattern, running)
  end, timeout or 2)
  if client then client:close() end
  if not ok then error(err, 2) end
end
helpers.signal = not_supported("signal", "the node runs in-process, with no nginx master to signal")
helpers.signal_workers = not_supported("signal_workers", "the node's workers are Lua states in one process, not nginx workers")
helpers.wait_pid = not_supported("wait_pid", "the node runs in-process and has no pid file")

----------------------------------------------------------------------
-- HTTP/2 (Kong's spec/internal/client.lua runs its bin/h2client tool;
-- luahost's Go client does the request in-process)

-- http2_client(host, port, tls) -> a callable: client({ headers =,
-- body =, path =, timeout =, http_version = "HTTP/1.1" }) -> body,
-- headers; headers:get(":status") and any case of a name find them.
-- Pseudo-headers (:authority, :path, :method) shape the request.
function helpers.http2_client(host, port, tls)
  assert(port)
  local base = (tls and "https" or "http") .. "://" .. host .. ":" .. port
  return setmetatable({}, {
    __call = function(_, opts)
      opts = opts or {}
      local timeout = opts.timeout and math.floor(opts.timeout) or nil
      local status, headers, body = go.h2_request(base .. (opts.path or ""), opts.headers, opts.body,
        timeout, opts.http_version == "HTTP/1.1")
      assert(status, headers)
      headers.status = tostring(status)
      headers.get = function(_, key)
        if key:sub(1, 1) == ":" then key = key:sub(2) end
        return headers[key]
      end
      setmetatable(headers, {
        __index = function(t, key)
          if type(key) ~= "string" then return nil end
          return rawget(t, key:lower())
        end,
      })
      return body, headers
    end,
  })
end

-- over the node's cleartext http2 entry (Kong's 9002)
function helpers.proxy_client_h2c()
  local port = helpers.get_proxy_port(false, true)
  assert(port, "No http-proxy found in the configuration")
  return helpers.http2_client(helpers.get_proxy_ip(false, true), port)
end

-- over the node's "http2 ssl" entry (Kong's 9443)
function helpers.proxy_client_h2()
  local port = helpers.get_proxy_port(true, true)
  assert(port, "No https-proxy found in the configuration")
  return helpers.http2_client(helpers.get_proxy_ip(true, true), port, true)
end

-- make_synchronized_clients(clients) -> proxy client, admin client.
-- Kong's has the proxy retry until a reconfiguration-completion plugin
-- reports the Admin API's writes applied; luahost's nodes run in-process,
-- so after each write the admin client rebuilds the node's router and
-- plugins iterator (wait_for_all_config_update) before returning
function helpers.make_synchronized_clients(clients)
  clients = clients or {}
  local proxy = clients.proxy_client or helpers.proxy_client()
  local admin = clients.admin_client or helpers.admin_client()
  local send = admin.send
  local writes = { POST = true, PUT = true, PATCH = true, DELETE = true }
  function admin.send(self, opts)
    local res, err = send(self, opts)
    if opts and writes[(opts.method or "GET"):upper()] then
      helpers.wait_for_all_config_update()
    end
    return res, err
  end
  function admin.synchronize_sibling(self, sibling)
    sibling.send = self.send
  end
  -- Kong's proxy client has it too (its sibling proxy clients wait as it
  -- does); here the writes waited already, so the sibling's requests are
  -- plain ones like the proxy's
  function proxy.synchronize_sibling(self, sibling)
    sibling.send = self.send
  end
  return proxy, admin
end

----------------------------------------------------------------------
-- Kong's assertions, on a wrapper of busted's global assert

local function position()
  for level = 3, 40 do
    local info = debug.getinfo(level, "Sl")
    if not info then break end
    local src = info.short_src or info.source or ""
    if src:find("_spec%.lua$") and (info.currentline or 0) > 0 then
      return src .. ":" .. info.currentline
    end
  end
end

local function failure(msg)
  local luassert = require "luassert"
  local pos = position()
  error(setmetatable({ message = (pos and (pos .. ": ") or "") .. msg, luassert = true, position = pos },
    luassert.Failure), 0)
end

local function body_of(res)
  if type(res) ~= "table" then return nil end
  if res._body ~= nil then return res._body end
  if res.read_body then return (res:read_body()) end
end

-- the plugin handlers the proxy ran for res, as a paragraph to append to
-- a failure message ("" when res is not a proxied response)
local function trace_of(res)
  local key = type(res) == "table" and rawget(res, "_trace_key")
  if not key then return "" end
  local t = go.proxy_trace(key)
  if t == "" then
    return "\nPlugins run by the proxy for this request: none"
  end
  return "\nPlugins run by the proxy for this request:\n  " .. t:gsub("\n", "\n  ")
end

-- Kong's strip: leading and trailing whitespace off
local function strip(s)
  return (tostring(s or ""):match("^%s*(.-)%s*$"))
end

-- the body, stripped of surrounding whitespace as Kong's res_status
-- returns (and prints) it
local function res_status(expected, res, msg)
  if type(res) ~= "table" or not res.status then
    failure("Expected a response, got " .. tostring(res))
  end
  local body = strip(body_of(res))
  if res.status ~= expected then
    failure((msg and (msg .. "\n") or "") .. "Invalid response status code '" .. res.status ..
      "':\nExpected: " .. tostring(expected) .. "\nBody: " .. body .. trace_of(res))
  end
  return body
end

local function json_of(what, res)
  local body = body_of(res)
  local ok, t = pcall(cjson.decode, body or "")
  if not ok then
    failure("Expected " .. what .. " body to be JSON, got: " .. tostring(body) .. trace_of(res))
  end
  return t
end

local function modifier_chain(checks, neg)
  local chain
  chain = setmetatable({}, {
    neg = neg,
    __index = function(_, key)
      if key == "has" or key == "is" or key == "was" or key == "has_a" then return chain end
      if key == "no" or key == "not" or key == "has_no" then return modifier_chain(checks, not neg) end
      if type(key) == "string" and not checks[key] and key:find("_", 1, true) then
        -- luassert's underscored modifiers alone (has_not, is_not,
        -- does_not ...): a chain, negated once per no/not
        local n, only = neg, true
        for word in key:gmatch("[^_]+") do
          if word == "no" or word == "not" then
            n = not n
          elseif word ~= "has" and word ~= "is" and word ~= "was" and word ~= "are" and word ~= "does" then
            only = false
            break
          end
        end
        if only then return modifier_chain(checks, n) end
      end
      local fn, n = checks[key], neg
      if not fn and type(key) == "string" then
        -- luassert's underscored form: has_header, has_no_header,
        -- is_not_status ... (modifier words, then the assertion)
        local rest = key
        while true do
          local word, tail = rest:match("^(%a+)_(.+)$")
          if word == "has" or word == "is" or word == "was" or word == "are" or word == "does" then
            rest = tail
          elseif word == "no" or word == "not" then
            rest, n = tail, not n
          else
            break
          end
        end
        fn = checks[rest]
      end
      if not fn then
        error("spec.helpers: unknown assertion '" .. tostring(key) .. "'", 2)
      end
      return function(...) return fn(n, ...) end
    end,
  })
  return chain
end

local function response_checks(res)
  local function fail_res(msg) failure(msg .. trace_of(res)) end
  return {
    status = function(neg, code)
      if neg then
        if res.status == code then fail_res("Expected status not to be " .. tostring(code)) end
        return body_of(res)
      end
      return res_status(code, res)
    end,
    header = function(neg, name)
      local v = res.headers and res.headers[name]
      if neg then
        if v ~= nil then fail_res("Expected header '" .. name .. "' not to be present, got: " .. tostring(v)) end
        return
      end
      if v == nil then fail_res("Expected header '" .. name .. "' to be present in the response") end
      return v
    end,
    jsonbody = function(neg)
      return json_of("the response", res)
    end,
  }
end

-- request(res): res must be the mock upstream's echo (its X-Powered-By
-- says so), as Kong's modifier requires
local function request_checks(res)
  local function fail_res(msg) failure(msg .. trace_of(res)) end
  local req = json_of("the request (mock upstream)", res)
  if type(req) ~= "table" or lookup(res.headers or {}, "X-Powered-By") ~= "mock_upstream" then
    error("Could not determine the response to be from mock_upstream", 3)
  end
  -- names found in any case, as Kong's misc.lookup
  local function field(what, t, name)
    local v = t and lookup(t, name)
    if v == nil then fail_res("Expected request " .. what .. " '" .. name .. "' to be present") end
    return v
  end
  return {
    header = function(neg, name)
      local v = req.headers and req.headers[name:lower()]
      if neg then
        if v ~= nil then fail_res("Expected request header '" .. name .. "' not to be present, got: " .. tostring(v)) end
        return
      end
      if v == nil then fail_res("Expected request header '" .. name .. "' to be present, headers: " .. cjson.encode(req.headers or {})) end
      return v
    end,
    queryparam = function(neg, name)
      if neg then
        if req.uri_args and lookup(req.uri_args, name) ~= nil then fail_res("Expected querystring '" .. name .. "' not to be present") end
        return
      end
      return field("querystring parameter", req.uri_args, name)
    end,
    formparam = function(neg, name)
      local pd = req.post_data
      if not pd or (pd.kind ~= "form" and pd.kind ~= "multipart-form") then
        error("Could not determine the request to be from either mock_upstream", 2)
      end
      local params = type(pd.params) == "table" and pd.params or {}
      if neg then
        if lookup(params, name) ~= nil then fail_res("Expected form parameter '" .. name .. "' not to be present") end
        return
      end
      return field("form parameter", params, name)
    end,
    -- the request's JSON body: { params, data, error, kind }, as Kong's
    jsonbody = function()
      local pd = req.post_data
      if not (pd and (pd.kind == "json" or pd.kind == "json (error)") and pd.params) then
        error("No json data found in the request", 2)
      end
      return { params = pd.params, data = pd.text, error = pd.error, kind = pd.kind }
    end,
  }
end

-- the error log: clean_logfile and assert.logfile().has.line
function helpers.clean_logfile(path)
  local f = io.open(path or helpers.test_conf.nginx_err_logs, "w")
  if f then f:close() end
end

local function log_has(path, pattern, plain)
  local f = io.open(path, "r")
  if not f then return false end
  local s = f:read("*a")
  f:close()
  for line in s:gmatch("[^\n]+") do
    if plain then
      if line:find(pattern, 1, true) then return true end
    else
      -- a regex (PCRE), as Kong's ngx.re.find
      local from, _, err = ngx.re.find(line, pattern, "oj")
      if err then
        error(("invalid regex provided to logfile assertion %q: %s"):format(pattern, err), 0)
      end
      if from then return true end
    end
  end
  return false
end

local function logfile(path)
  path = path or helpers.test_conf.nginx_err_logs
  return modifier_chain({
    line = function(neg, pattern, plain, timeout)
      -- a line of the log phase (or of a timer) may land after the
      -- response: look again until timeout (seconds, default 2), as
      -- Kong's does, negated too (has.no.line passes only when the line
      -- has not appeared by then)
      local deadline = now() + (timeout or 2)
      repeat
        if log_has(path, pattern, plain) then
          if neg then
            failure("Expected file at '" .. path .. "' to not have line: " .. pattern)
          end
          return true
        end
        if ngx and ngx.sleep then ngx.sleep(0.01) end
      until now() >= deadline
      if neg then
        return true
      end
      failure("Expected file at '" .. path .. "' to have line: " .. pattern)
    end,
  }, false)
end

-- assert.eventually(fn): a builder whose with_timeout(s) (default 5),
-- with_step(s) (0.05), with_max_tries(n) (0: no bound), with_debug(b) and
-- ignore_exceptions(b) set how fn is retried (each returns the builder),
-- and whose is_truthy, is_falsy, has_error and has_no_error(msg) call fn
-- until its outcome meets that condition, failing the test with the last
-- value and error when time or tries run out. A raised error ends the
-- wait unless exceptions are ignored (has_no_error ignores them), as
-- Kong's spec/helpers/wait.lua does.
local function eventually(fn)
  if type(fn) ~= "function" and not (type(fn) == "table" and getmetatable(fn) and getmetatable(fn).__call) then
    failure("eventually: argument #1 must be a function, got " .. type(fn))
  end
  local opts = { timeout = 5, step = 0.05, max_tries = 0 }
  local builder = {}
  local function with(field, kind)
    return function(v)
      if type(v) ~= kind then
        error("eventually: " .. field .. " must be a " .. kind .. ", got " .. type(v), 2)
      end
      opts[field] = v
      return builder
    end
  end
  builder.with_timeout = with("timeout", "number")
  builder.with_step = with("step", "number")
  builder.with_max_tries = with("max_tries", "number")
  builder.with_debug = with("debug", "boolean")
  builder.ignore_exceptions = with("ignore_exceptions", "boolean")
  local function wait(condition, met, msg)
    local ignore = opts.ignore_exceptions or condition == "no_error"
    local start = now()
    local tries, raised = 0, false
    local last_value, last_error, last_raised
    local result
    while true do
      local ok, res, err = pcall(fn)
      tries = tries + 1
      if ok then
        if res ~= nil then last_value = res end
        if err ~= nil then last_error = err end
      else
        raised = true
        last_raised = res
      end
      if opts.debug then
        print(("eventually: try %d: %s %s"):format(tries, tostring(ok), tostring(res)))
      end
      if met(ok, res) then
        return true
      end
      if not ok and not ignore then
        result = "error() raised"
      elseif opts.max_tries > 0 and tries >= opts.max_tries then
        result = ("max tries (%d) reached"):format(opts.max_tries)
      elseif now() >= start + opts.timeout then
        result = ("timed out after %ss"):format(now() - start)
      end
      if result then break end
      ngx.sleep(opts.step)
    end
    local lines = { "Failed to assert eventual condition:", "", ("%q"):format(tostring(msg or "")), "",
      "Result: " .. result, "" }
    local function show(title, v)
      if v ~= nil then
        lines[#lines + 1] = title
        local shown = tostring(v)
        if type(v) == "table" then
          local ok, json = pcall(require("cjson").encode, v)
          if ok then shown = json end
        end
        lines[#lines + 1] = shown
        lines[#lines + 1] = ""
      end
    end
    show("Last returned value:", last_value)
    show("Last raised error:", last_raised)
    show("Last returned error:", last_error)
    lines[#lines + 1] = ("Timeout = %s, Step = %s, Tries = %d, Raised = %s"):format(opts.timeout, opts.step, tries,
      tostring(raised))
    failure(table.concat(lines, "\n"))
  end
  builder.is_truthy = function(msg) return wait("truthy", function(ok, res) return ok and res and true or false end, msg) end
  builder.is_falsy = function(msg) return wait("falsy", function(ok, res) return ok and not res end, msg) end
  builder.has_error = function(msg) return wait("error", function(ok) return not ok end, msg) end
  builder.has_no_error = function(msg) return wait("no_error", function(ok) return ok end, msg) end
  return setmetatable(builder, {
    __index = function(_, key) error("unknown modifier/assertion: " .. tostring(key), 2) end,
  })
end

local extra = {
  eventually = eventually,
  logfile = logfile,
  errlog = logfile, -- Kong's older name
  res_status = res_status,
  response = function(res) return modifier_chain(response_checks(res), false) end,
  request = function(res) return modifier_chain(request_checks(res), false) end,
  fail = function(msg) failure(tostring(msg)) end,
}

local function wrap_assert()
  local base = rawget(_G, "assert")
  if type(base) ~= "table" or rawget(base, "__spec_helpers") then return end
  local wrapped = setmetatable({ __spec_helpers = true }, {
    __call = function(_, ...) return base(...) end,
    __index = function(_, key)
      local e = extra[key]
      if e then return e end
      return base[key]
    end,
  })
  _G.assert = wrapped
end
wrap_assert()

-- the other assertions Kong's spec/internal/asserts.lua registers on
-- luassert: contains, gt (and the gt matcher), certificate + cn,
-- match_re, partial_match, header
do
  local luassert = require "luassert.assert"
  local say = require "say"

  -- contains(expected, array, pattern): the index it was found at
  luassert:register("assertion", "contains", function(_, args)
    local expected, arr, pattern = args[1], args[2], args[3]
    for i = 1, #arr do
      if arr[i] == expected or (pattern and type(arr[i]) == "string" and arr[i]:match(expected)) then
        return true, { i }
      end
    end
    return false
  end, "assertion.contains.negative", "assertion.contains.positive")
  say:set("assertion.contains.negative", "Expected the array to contain the element.\nElement:\n%s\n")
  say:set("assertion.contains.positive", "Expected the array not to contain the element.\nElement:\n%s\n")

  -- header(name, res): res (a response, or the mock upstream's echo) has
  -- header name in its headers, in any case; the value is returned
  luassert:register("assertion", "header", function(state, args)
    local name = args[1]
    local res = args[2] or rawget(state, "kong_request") or rawget(state, "kong_response")
    assert(type(res) == "table" and type(res.headers) == "table",
      "'header' assertion input does not contain a 'headers' subtable")
    local value = lookup(res.headers, name)
    args[1], args[2], args.n = name, cjson.encode(res.headers), 2
    if value == nil then return false end
    return true, { value }
  end, "assertion.res_header.negative", "assertion.res_header.positive")
  say:set("assertion.res_header.negative", "Expected header:\n%s\nBut it was not found in:\n%s\n")
  say:set("assertion.res_header.positive", "Did not expected header:\n%s\nBut it was found in:\n%s\n")

  -- gt(expected, value): value > expected
  luassert:register("assertion", "gt", function(_, args)
    local expected, value = args[1], args[2]
    args[1], args[2] = value, expected
    return value > expected
  end, "assertion.gt.negative", "assertion.gt.positive")
  say:set("assertion.gt.negative", "Given value (%s) should be greater than expected value (%s)\n")
  say:set("assertion.gt.positive", "Given value (%s) should not be greater than expected value (%s)\n")
  luassert:register("matcher", "gt", function(_, args)
    local expected = args[1]
    return function(value) return value > expected end
  end)

  -- assert.certificate(pem).has.cn(name), or assert.cn(name, pem)
  luassert:register("modifier", "certificate", function(state, args)
    assert(type(args[1]) == "string", "Expected a certificate text, got '" .. tostring(args[1]) .. "'")
    rawset(state, "kong_certificate", args[1])
    return state
  end)
  luassert:register("assertion", "cn", function(state, args)
    local expected = args[1]
    if args[2] and rawget(state, "kong_certificate") then
      error("assertion 'cn' takes either a 'certificate' modifier, or 2 parameters, not both")
    end
    local cert = args[2] or rawget(state, "kong_certificate")
    local cn = string.match(cert, "CN%s*=%s*([^%s,]+)")
    args[2], args.n = cn or "(CN not found in certificate)", 2
    return cn == expected
  end, "assertion.cn.negative", "assertion.cn.positive")
  say:set("assertion.cn.negative", "Expected the certificate's CN to be:\n%s\nGot:\n%s\n")
  say:set("assertion.cn.positive", "Expected the certificate's CN not to be:\n%s\nGot:\n%s\n")

  -- match_re(subject, regex): a PCRE match, as ngx.re.find
  luassert:register("assertion", "match_re", function(_, args)
    local subject, regex = args[1], args[2]
    assert(type(subject) == "string", "Expected the string argument to be a string")
    assert(type(regex) == "string", "Expected the regex argument to be a string")
    local from, _, err = ngx.re.find(subject, regex)
    if err then error(err) end
    args[1], args[2], args.n = regex, subject, 2
    return from ~= nil
  end, "assertion.match_re.negative", "assertion.match_re.positive")
  say:set("assertion.match_re.negative", "Expected:\n%s\nto match:\n%s\n")
  say:set("assertion.match_re.positive", "Expected:\n%s\nnot to match:\n%s\n")

  -- partial_match(partial, full): every (nested) value of partial equals
  -- full's at the same keys; negated, every one differs
  luassert:register("assertion", "partial_match", function(state, args)
    local positive = rawget(state, "mod")
    local function walk(t1, t2, prefix)
      for k, v in pairs(t1) do
        local key = prefix and (prefix .. "." .. k) or k
        if type(v) == "table" then
          local ok, bad, v1, v2 = walk(v, t2[k], key)
          if not ok then return ok, bad, v1, v2 end
        elseif (positive and v ~= t2[k]) or (not positive and v == t2[k]) then
          return false, key, v, t2[k]
        end
      end
      return true
    end
    local ok, key, v1, v2 = walk(args[1], args[2])
    if not ok then
      args[1], args[2], args[3], args.n = key, v1, v2, 3
      return not positive
    end
    return positive
  end, "assertion.partial_match.positive", "assertion.partial_match.negative")
  say:set("assertion.partial_match.positive", "Values at key %s should be equal.\nExpected: %s, given: %s\n")
  say:set("assertion.partial_match.negative", "Values at key %s should not be equal\n")
end

-- Kong's helpers.db, the DB object of the test configuration: here kong.db
-- over the current node's store (get_db_utils' or start_kong's), the same
-- table each time, nil before any
do
  local mt = getmetatable(helpers) or {}
  local index = mt.__index -- the grpcbin constants'
  mt.__index = function(self, k)
    if k == "db" then
      return (go.db())
    end
    if type(index) == "function" then return index(self, k) end
    if index then return index[k] end
  end
  setmetatable(helpers, mt)
end

return helpers
