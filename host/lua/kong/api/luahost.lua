-- luahost's dispatcher of plugins' api.lua files (the part of Kong's
-- kong/api/init.lua and api_helpers.lua that attaches plugin routes). The
-- Admin API (Go) asks build() which routes the api.lua files define, and
-- calls serve() for a request on one of them, in the worker it borrowed,
-- with kong.response bound to the Admin API. Generated endpoints that an
-- api.lua overrides are passed as `parent`, as in Kong.

local Endpoints = require "kong.api.endpoints"
local LegacyErrors = require "kong.dao.errors"

local kong = kong
local type = type
local pairs = pairs
local ipairs = ipairs
local error = error

local M = {}

local routes = {}

local YIELD = {}

-- self.req.headers: any case, "_" for "-" (ngx.req.get_headers' table)
local HEADERS_MT = {
  __index = function(t, k)
    if type(k) == "string" then
      return rawget(t, (k:lower():gsub("_", "-")))
    end
  end,
}

local ERROR_STATUS = {
  [1] = 400, [2] = 400, [4] = 400, [7] = 400, [13] = 400,
  [5] = 409,
  [6] = 404,
}

local function is_new_db_routes(mod)
  for _, verbs in pairs(mod) do
    if type(verbs) == "table" then
      return verbs.schema ~= nil
    end
  end
  return false
end

local function customize(generated, custom, schema)
  for pattern, verbs in pairs(custom) do
    if type(verbs) == "table" and pattern ~= "schema" and pattern ~= "_stream" then
      local methods = verbs.methods or verbs
      local route = generated[pattern]
      if route == nil then
        route = { schema = verbs.schema or schema, methods = {} }
        generated[pattern] = route
        for method, handler in pairs(methods) do
          if method ~= "schema" then
            route.methods[method] = handler
          end
        end
      else
        for method, handler in pairs(methods) do
          local parent = route.methods[method]
          if parent ~= nil and type(handler) == "function" then
            route.methods[method] = function(self, db, helpers)
              return handler(self, db, helpers, function(post_process)
                return parent(self, db, helpers, post_process)
              end)
            end
          elseif method ~= "schema" then
            route.methods[method] = handler
          end
        end
      end
      routes[pattern] = route
    end
  end
end

-- build loads the api.lua of each named plugin and returns the routes
-- they define: { { pattern = "/x/:x", methods = { "GET", ... }, schema = name }, ... }.
function M.build(plugins)
  routes = {}
  local generated = {}
  local names = {}
  for name in pairs(kong.db.daos) do
    names[#names + 1] = name
  end
  table.sort(names)
  for _, name in ipairs(names) do
    local schema = kong.db[name].schema
    if schema.generate_admin_api ~= false then
      Endpoints.new(schema, generated)
    end
  end
  for _, plugin in ipairs(plugins) do
    local mod = require("kong.plugins." .. plugin .. ".api")
    if type(mod) == "table" then
      if is_new_db_routes(mod) then
        customize(generated, mod, mod.schema)
      else
        for pattern, methods in pairs(mod) do
          if type(methods) == "table" and pattern ~= "_stream" then
            routes[pattern] = { methods = methods, old = true }
          end
        end
      end
    end
  end
  local out = {}
  for pattern, route in pairs(routes) do
    local verbs = {}
    for method, handler in pairs(route.methods) do
      if type(handler) == "function" and method ~= "before" then
        verbs[#verbs + 1] = method
      end
    end
    table.sort(verbs)
    out[#out + 1] = {
      pattern = pattern,
      methods = verbs,
      schema = type(route.schema) == "table" and route.schema.name or nil,
    }
  end
  table.sort(out, function(a, b) return a.pattern < b.pattern end)
  return out
end

-- old_dao_error answers a kong.dao.errors object as Kong 0.x's Admin API
-- did (kong/api/init.lua on_error, through kong.tools.responses).
local function old_dao_error(err)
  local responses = require "kong.tools.responses"
  if err.db then
    return responses.send_HTTP_INTERNAL_SERVER_ERROR(err.message)
  elseif err.unique then
    return responses.send_HTTP_CONFLICT(err.tbl)
  elseif err.foreign then
    return responses.send_HTTP_NOT_FOUND(err.tbl)
  end
  return responses.send_HTTP_BAD_REQUEST(err.tbl or err.message)
end

local function on_error(err)
  if type(err) == "table" and err.code == nil
     and (LegacyErrors.is_error(err) or err.db or err.unique or err.foreign or err.schema) then
    return old_dao_error(err)
  end
  if type(err) ~= "table" then
    kong.log.err(err)
    return kong.response.exit(500, { message = "An unexpected error occurred" })
  end
  err.strategy = nil
  local status = ERROR_STATUS[err.code]
  if status then
    return kong.response.exit(status, err)
  end
  kong.log.err(err.message or err.name)
  return kong.response.exit(500, { message = "An unexpected error occurred" })
end

local function yield_error(err)
  error({ [YIELD] = err }, 0)
end

-- helpers: lapis' yield_error (1.x+) and, for 0.x handlers, responses.
local helpers = {
  yield_error = yield_error,
  responses = require "kong.tools.responses",
}

-- yield_error(err) ends an api.lua handler with the error answer of err
-- (kong.api.crud_helpers uses it as 0.x used lapis' yield_error).
M.yield_error = yield_error

local function respond(res)
  if type(res) == "table" and (res.status or res.json) then
    return kong.response.exit(res.status or 200, res.json)
  end
end

-- serve runs the handler of method on pattern for the request self
-- (params, args, req set by the Admin API); the handler answers with
-- kong.response.exit, which ends the call.
function M.serve(pattern, method, self)
  local route = routes[pattern]
  local methods = route.methods
  local handler = methods[method]
  if method == "HEAD" and handler == nil then
    handler = methods.GET
  end
  if type(handler) ~= "function" then
    return kong.response.exit(405, { message = "Method not allowed" })
  end
  -- an old-style route (no schema): 0.x handlers got the DAO factory
  -- (Kong 1.x passed {} there; the factory serves both)
  local db = route.old and require("kong.dao.legacy") or kong.db
  if type(self.req) == "table" and type(self.req.headers) == "table" then
    setmetatable(self.req.headers, HEADERS_MT)
  end
  local ok, res = pcall(function()
    if type(methods.before) == "function" then
      methods.before(self, db, helpers)
    end
    return handler(self, db, helpers)
  end)
  if not ok then
    if type(res) == "table" and res[YIELD] ~= nil then
      return on_error(res[YIELD])
    end
    error(res, 0)
  end
  return respond(res)
end

return M
