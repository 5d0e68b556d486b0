-- luahost shim for Kong's `kong.tools.sandbox` (3.x). Covers:
-- configuration (enabled, sandbox_enabled, requires, env_vars, environment,
-- sandbox_mt, global_mt, err_msg; computed on first read from
-- kong.configuration.untrusted_lua, untrusted_lua_sandbox_requires and
-- untrusted_lua_sandbox_environment; an unset untrusted_lua means Kong's
-- default "sandbox"), sandbox(chunk, chunkname_or_options, mode, env),
-- sandbox_lua / sandbox_schema / sandbox_handler (one environment for
-- all three: the safe Lua subset plus ngx, a read-through kong and a
-- require limited to the allowed modules), validate, validate_safe,
-- validate_function and parse, with Kong's messages. As Kong's,
-- configuration.environment is kong, ngx, require, _G and the
-- env_vars; the safe subset joins it where a chunk is compiled.
-- Not covered: the per-phase handler/schema environments of Kong's
-- sandbox (kong.tools.sandbox.environment) and its kong.* deny lists
-- beyond kong.licensing and the cluster_events / connector config tables.

local setmetatable = setmetatable
local rawset = rawset
local require = require
local ipairs = ipairs
local pairs = pairs
local pcall = pcall
local type = type
local error = error
local assert = assert
local loadstring = loadstring
local setfenv = setfenv
local format = string.format
local gmatch = string.gmatch
local match = string.match

-- The globals sandboxed code may read (dotted names reach into modules).
local SAFE = [[
_VERSION assert error ipairs next pairs pcall print select tonumber
tostring type unpack xpcall
bit.arshift bit.band bit.bnot bit.bor bit.bswap bit.bxor bit.lshift
bit.rol bit.ror bit.rshift bit.tobit bit.tohex
coroutine.create coroutine.resume coroutine.running coroutine.status
coroutine.wrap coroutine.yield
io.type
math.abs math.acos math.asin math.atan math.atan2 math.ceil math.cos
math.cosh math.deg math.exp math.floor math.fmod math.frexp math.huge
math.ldexp math.log math.log10 math.max math.min math.modf math.pi
math.pow math.rad math.random math.sin math.sinh math.sqrt math.tan
math.tanh
os.clock os.date os.difftime os.time
string.byte string.char string.find string.format string.gmatch
string.gsub string.len string.lower string.match string.rep
string.reverse string.sub string.upper
table.clear table.clone table.concat table.foreach table.foreachi
table.getn table.insert table.isarray table.isempty table.maxn
table.move table.new table.nkeys table.pack table.remove table.sort
table.unpack
]]

local function get_conf(name)
  return kong and kong.configuration and kong.configuration[name]
end

local function untrusted_lua()
  return get_conf("untrusted_lua") or "sandbox"
end

-- link(path, src, dst): copies src's a.b.c into dst (a read-through proxy
-- for tables), creating the intermediate tables.
local function link(path, src, dst)
  local head, rest = match(path, "^([^%.]+)%.?(.*)$")
  if not head then
    return
  end
  local v = src[head]
  if v == nil then
    return
  end
  if rest == "" then
    if type(v) == "table" then
      dst[head] = setmetatable({}, { __index = v })
    else
      dst[head] = v
    end
    return
  end
  if type(v) ~= "table" then
    return
  end
  if type(dst[head]) ~= "table" then
    dst[head] = {}
  end
  link(rest, v, dst[head])
end

local function denied_table(modname)
  return setmetatable({}, {
    __index = {},
    __newindex = function(_, k)
      return error(format("Cannot modify %s.%s. Protected by the sandbox.", modname, k), -1)
    end,
    __tostring = function() return "nil" end,
  })
end

local function denied_require(modname)
  return error(format("require '%s' not allowed within sandbox", modname), -1)
end

local function sandboxed_kong()
  if type(kong) ~= "table" then
    return nil
  end
  local k = setmetatable({ licensing = denied_table("kong.licensing") }, { __index = kong })
  for _, name in ipairs({ "cache", "core_cache" }) do
    if type(kong[name]) == "table" then
      k[name] = setmetatable({ cluster_events = denied_table("kong.cache.cluster_events") },
                             { __index = kong[name] })
    end
  end
  if type(kong.configuration) == "table" and type(kong.configuration.remove_sensitive) == "function" then
    k.configuration = kong.configuration.remove_sensitive()
  end
  if type(kong.db) == "table" then
    k.db = setmetatable({}, { __index = kong.db })
    if type(kong.db.connector) == "table" then
      k.db.connector = setmetatable({ config = denied_table("kong.db.connector.config") },
                                    { __index = kong.db.connector })
    end
  end
  return k
end

local lazy = {
  enabled = function() return untrusted_lua() ~= "off" end,
  sandbox_enabled = function() return untrusted_lua() == "sandbox" end,
  requires = function()
    local list = get_conf("untrusted_lua_sandbox_requires")
    if type(list) ~= "table" or #list == 0 then
      return nil
    end
    local set = {}
    for _, r in ipairs(list) do
      set[r] = true
    end
    return set
  end,
  env_vars = function()
    local list = get_conf("untrusted_lua_sandbox_environment")
    if type(list) ~= "table" or #list == 0 then
      return nil
    end
    return list
  end,
  -- kong, ngx, require and the configured env_vars only, as Kong's: the
  -- safe Lua subset is added where a chunk is compiled (a plugin copying
  -- this environment, as request-transformer's templates do, has no
  -- string or table)
  environment = function(self)
    local requires = self.requires
    local env = {
      kong = sandboxed_kong(),
      ngx = ngx,
      require = requires and function(modname)
        if not requires[modname] then
          return denied_require(modname)
        end
        return require(modname)
      end or denied_require,
    }
    for _, name in ipairs(self.env_vars or {}) do
      link(name, _G, env)
    end
    env._G = env
    return env
  end,
  sandbox_mt = function(self) return { __index = self.environment } end,
  global_mt = function() return { __index = _G } end,
}

local static = {
  clear = function(t) for k in pairs(t) do t[k] = nil end end,
  err_msg = "loading of untrusted Lua code disabled because " ..
            "'untrusted_lua' config option is set to 'off'",
}
static.reload = static.clear

local configuration = setmetatable({}, {
  __index = function(self, key)
    local f = lazy[key]
    if not f then
      return static[key]
    end
    local v = f(self)
    rawset(self, key, v)
    return v
  end,
})

-- compile(chunk, chunkname, env): a string chunk (or a function) bound to
-- env; raises the compile error.
local function compile(chunk, chunkname, env)
  local fn = chunk
  if type(chunk) == "string" then
    local err
    fn, err = loadstring(chunk, chunkname)
    if not fn then
      return error(err, -1)
    end
  end
  return setfenv(fn, env)
end

local function sandbox(chunk, chunkname_or_options, mode, env)
  if not configuration.enabled then
    return error(configuration.err_msg, -1)
  end
  local chunkname = chunkname_or_options
  if type(chunkname_or_options) == "table" then
    chunkname = chunkname_or_options.chunkname or chunkname_or_options.chunk_name
    env = env or chunkname_or_options.env
  end
  env = env or {}
  if not configuration.sandbox_enabled then
    return compile(chunk, chunkname, setmetatable(env, configuration.global_mt))
  end
  -- the safe Lua subset, each name taken from env when env (or the
  -- sandbox environment behind it) has it, then env itself, as Kong's
  -- sandbox builds a chunk's environment
  env = setmetatable(env, configuration.sandbox_mt)
  local full = {}
  for name in gmatch(SAFE, "%S+") do
    link(name, _G, full)
  end
  for k in pairs(full) do
    local mine = env[k]
    if mine ~= nil then
      full[k] = mine
    end
  end
  if env.require ~= nil then
    full.require = env.require
  end
  return compile(chunk, chunkname, setmetatable(full, { __index = env }))
end

local function sandbox_plain(chunk, chunkname)
  return sandbox(chunk, chunkname)
end

local function validate_function(chunk, chunkname_or_options, mode, env)
  local ok, compiled = pcall(sandbox, chunk, chunkname_or_options, mode, env)
  if not ok then
    return false, "Error parsing function: " .. compiled
  end
  local success, fn = pcall(compiled)
  if not success then
    return false, fn
  end
  if type(fn) == "function" then
    return fn
  end
  return false, "Bad return value from function, expected function type, got " .. type(fn)
end

return {
  validate = function(chunk, chunkname_or_options, mode, env)
    local _, err = validate_function(chunk, chunkname_or_options, mode, env)
    if err then
      return false, err
    end
    return true
  end,
  validate_safe = function(chunk, chunkname_or_options, mode, env)
    local ok, err = pcall(sandbox, chunk, chunkname_or_options, mode, env)
    if not ok then
      return false, "Error parsing function: " .. err
    end
    return true
  end,
  validate_function = validate_function,
  sandbox = sandbox,
  sandbox_lua = sandbox_plain,
  sandbox_schema = sandbox_plain,
  sandbox_handler = sandbox_plain,
  parse = function(chunk, chunkname_or_options, mode, env)
    return assert(validate_function(chunk, chunkname_or_options, mode, env))
  end,
  configuration = configuration,
}
