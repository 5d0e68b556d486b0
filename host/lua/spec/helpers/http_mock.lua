-- spec.helpers.http_mock look-alike: a mock HTTP server whose routes run
-- Lua code in access, content and log phases (with ngx.print, ngx.say,
-- ngx.exit, ngx.status, ngx.header, ngx.req.*, ngx.var, ngx.ctx), and
-- that keeps each request/response pair ("session": req = { method, uri,
-- headers, body }, resp = { status, headers, body }, err) for the spec to
-- read back: get_request, get_response, get_session,
-- retrieve_mocking_logs, clean, and the eventually assertions
-- (has_request_satisfy, all_response_satisfy, has_no_session_satisfy ...).
-- The server runs in luahost's process (Kong's runs an nginx).

local go = require "luahost.spechelpers"
local cjson = require "cjson"
local helpers = require "spec.helpers"

local http_mock = {}
local mt = { __index = http_mock }

local default_mocking = {
  ["/"] = {
    access = [[
      ngx.req.set_header("X-Test", "test")
      ngx.print("ok")
      ngx.exit(200)
    ]],
  },
}

local function default_field(t, k, v)
  if t[k] == nil then t[k] = v end
end

-- new(listens, routes, opts) -> mock, port
function http_mock.new(listens, routes, opts)
  opts = opts or {}
  local port = 0
  if type(listens) == "number" then
    port = listens
  elseif type(listens) == "string" then
    port = tonumber(listens:match(":(%d+)") or listens:match("^(%d+)")) or 0
  elseif type(listens) == "table" and listens[1] then
    port = tonumber(tostring(listens[1]):match(":(%d+)") or tostring(listens[1]):match("^(%d+)")) or 0
  end
  if opts.tls then
    error("http_mock: tls = true is not supported (luahost serves no TLS listener yet)", 2)
  end
  if routes == nil then
    routes = default_mocking
  elseif type(routes) == "string" then
    routes = { ["/"] = { access = routes } }
  end
  local log_opts = opts.log_opts or {}
  default_field(log_opts, "req", true)
  default_field(log_opts, "req_body", true)
  default_field(log_opts, "req_body_large", true)
  default_field(log_opts, "resp", false)
  default_field(log_opts, "resp_body", false)
  default_field(log_opts, "err", true)
  local id, real_port = go.http_mock_new(port, routes, log_opts)
  if not id then
    error("http_mock: " .. tostring(real_port), 2)
  end
  local self = setmetatable({
    id = id,
    port = real_port,
    listens = { "0.0.0.0:" .. real_port },
    routes = routes,
    log_opts = log_opts,
    logs = {},
    eventually_timeout = opts.eventually_timeout or 5,
    client_opts = { port = real_port },
  }, mt)
  self.eventually = setmetatable({ __mock = self }, http_mock._eventually_mt)
  return self, real_port
end

function http_mock:get_default_port()
  return self.port
end

function http_mock:start()
  assert(go.http_mock_start(self.id))
  return true
end

function http_mock:stop()
  go.http_mock_stop(self.id)
  return true
end

function http_mock:get_client()
  if not self.client then
    self.client = helpers.http_client("127.0.0.1", self.port)
  end
  return self.client
end

function http_mock:retrieve_mocking_logs_json()
  return go.http_mock_logs(self.id)
end

-- the sessions logged since the last call (kept in self.logs too, as
-- Kong's): each is seen once, so get_request answers the next request
function http_mock:retrieve_mocking_logs()
  local new = cjson.decode(self:retrieve_mocking_logs_json())
  for _, log in ipairs(new) do
    self.logs[#self.logs + 1] = log
  end
  return new
end

function http_mock:purge_mocking_logs()
  go.http_mock_purge(self.id)
  return true
end

function http_mock:clean()
  self:purge_mocking_logs()
  self.logs = {}
  return true
end

function http_mock:wait_until_no_request(timeout)
  helpers.wait_until(function()
    return go.http_mock_pending(self.id) == 0
  end, timeout or 5)
end

----------------------------------------------------------------------
-- eventually: a check is retried until the sessions logged satisfy it
-- or eventually_timeout passes

local function sleep(s)
  if ngx and ngx.sleep then ngx.sleep(s) end
end

local function clock()
  if ngx and ngx.update_time then ngx.update_time() end
  return ngx and ngx.now and ngx.now() or os.time()
end

local function eventually_has(check, mock, ...)
  local deadline = clock() + mock.eventually_timeout
  local err
  repeat
    for _, log in ipairs(mock:retrieve_mocking_logs()) do
      local ok, e = pcall(check, log, ...)
      if ok then return true end
      err = e
    end
    sleep(0.01)
  until clock() >= deadline
  error(err or "no session satisfies the condition (no request received)", 3)
end

-- every session logged until eventually_timeout passes must satisfy
-- check, as Kong's: it watches the whole time (none logged passes too)
local function eventually_all(check, mock, ...)
  local deadline = clock() + mock.eventually_timeout
  repeat
    for _, log in ipairs(mock:retrieve_mocking_logs()) do
      local ok, e = pcall(check, log, ...)
      if not ok then
        error(e or "assertion fail", 3)
      end
    end
    sleep(0.01)
  until clock() >= deadline
  return true
end

-- a check fails by raising (assert.* inside f); what f returns does not
-- count, as with Kong's
local checks = {}
function checks.session_satisfy(session, f) return f(session) or "session satisfy" end
function checks.request_satisfy(session, f) return f(session.req) or "request satisfy" end
function checks.request() return "request exist" end
function checks.response_satisfy(session, f) return f(session.resp) or "response satisfy" end
function checks.error_satisfy(session, f) return f(session.err) or "error satisfy" end
function checks.error(session) assert(session.err, "has no error") return "has error" end

local eventually_mt = {}
eventually_mt.__index = eventually_mt
for name, impl in pairs(checks) do
  local function reverse(session, ...)
    local ok = pcall(impl, session, ...)
    assert(not ok, "unexpected " .. name)
  end
  eventually_mt["has_" .. name] = function(self, ...) return eventually_has(impl, self.__mock, ...) end
  eventually_mt["all_" .. name] = function(self, ...) return eventually_all(impl, self.__mock, ...) end
  eventually_mt["has_no_" .. name] = function(self, ...) return eventually_all(reverse, self.__mock, ...) end
  eventually_mt["not_all_" .. name] = function(self, ...) return eventually_has(reverse, self.__mock, ...) end
  eventually_mt["has_one_without_" .. name] = eventually_mt["not_all_" .. name]
end
http_mock._eventually_mt = eventually_mt

function http_mock:get_session()
  local ret
  self.eventually:has_session_satisfy(function(s) ret = s return true end)
  return ret
end

function http_mock:get_request()
  return self:get_session().req
end

function http_mock:get_response()
  return self:get_session().resp
end

return http_mock
