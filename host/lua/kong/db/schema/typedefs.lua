-- kong.db.schema.typedefs: stands in for Kong's kong/db/schema/typedefs.lua.
--
-- Every typedef is a field definition made callable by Schema.define:
-- `typedefs.port` is a definition, `typedefs.port { default = 80 }` returns
-- its argument completed with the typedef's keys. Indexing a name that is
-- not defined raises "schema typedef error: definition <k> does not exist".
--
-- Validators are luahost builtins (Go, kongdb/schema/builtin_validators.go)
-- so that schemas validate without a Lua runner; each custom_validator is
-- also callable from Lua (`typedefs.host.custom_validator("a:1")` returns
-- nil, "must not have a port") as in Kong.

local Schema = require "kong.db.schema"
local constants = require "kong.constants"
local builtin = require "luahost.builtin"

local null = ngx.null
local pairs = pairs
local sort = table.sort

local type = type
local setmetatable_any = debug and debug.setmetatable

-- Builtin validators that return the value itself on success, as Kong's
-- kong.tools.http validators do.
local returns_value = { header_name = true, cookie_name = true }

-- Builtin validators of record fields, with the fields they check.
local record_fields = {
  pem = {
    { private_key = { type = "string" } },
    { public_key = { type = "string" } },
  },
  jwk = {},
}

-- probe(name, marker): a one-field schema whose field runs the builtin.
local probes = {}
local function probe(name, marker)
  local p = probes[name]
  if not p then
    local field
    if record_fields[name] then
      field = { type = "record", fields = record_fields[name], custom_validator = marker }
    else
      field = { type = "string", len_min = 0, custom_validator = marker }
    end
    p = assert(Schema.new({ name = "typedefs_" .. name, fields = { { v = field } } }))
    probes[name] = p
  end
  return p
end

-- call_builtin runs a builtin validator from Lua with Kong's results:
-- true (or the value), or nil and the message (plus the path error code).
local function call_builtin(name, marker, value)
  local ok, errs = probe(name, marker):validate({ v = value })
  if ok then
    if returns_value[name] then
      return value
    end
    return true
  end
  local err = errs.v
  if type(err) == "table" then
    err = err["@entity"] and err["@entity"][1] or err
  end
  if name == "path" and type(err) == "string" then
    if err:find("^invalid url%-encoded value") then
      return nil, err, "percent"
    end
    return nil, err, "rfc3986"
  end
  return nil, err
end

-- validator(name): the builtin validator marker of that name, callable
-- from Lua like Kong's validator functions.
local function validator(name)
  local marker = builtin[name]
  if setmetatable_any and type(marker) == "userdata" and not getmetatable(marker) then
    setmetatable_any(marker, {
      __call = function(_, value)
        return call_builtin(name, marker, value)
      end,
    })
  end
  return marker
end

local typedefs = {}

typedefs.http_method = Schema.define {
  type = "string",
  match = "^%u+$",
  description = "An HTTP method in upper case letters, for example GET or POST.",
}

typedefs.protocol = Schema.define {
  type = "string",
  one_of = constants.PROTOCOLS,
  description = "A protocol name, for example http or https.",
}

typedefs.host = Schema.define {
  type = "string",
  custom_validator = validator("host"),
  description = "A host name or IP address, without a port.",
}

typedefs.redis_host = Schema.define {
  type = "string",
  custom_validator = validator("host"),
  description = "The host name or IP address of the Redis server.",
}

typedefs.host_with_optional_port = Schema.define {
  type = "string",
  custom_validator = validator("host_with_optional_port"),
  description = "A host name or IP address, optionally followed by a port.",
}

typedefs.wildcard_host = Schema.define {
  type = "string",
  custom_validator = validator("wildcard_host"),
  description = "A host name that may hold one wildcard as its leftmost or rightmost label.",
}

typedefs.ip = Schema.define {
  type = "string",
  custom_validator = validator("ip"),
  description = "An IPv4 or IPv6 address.",
}

typedefs.ip_or_cidr = Schema.define {
  type = "string",
  custom_validator = validator("ip_or_cidr"),
  description = "An IP address or a CIDR range.",
}

typedefs.cidr_v4 = Schema.define {
  type = "string",
  custom_validator = validator("ip_or_cidr_v4"),
  description = "An IPv4 address or IPv4 CIDR range.",
}

-- kept for older plugins
typedefs.cidr = typedefs.cidr_v4

typedefs.port = Schema.define {
  type = "integer",
  between = { 0, 65535 },
  description = "A port number, from 0 to 65535.",
}

typedefs.path = Schema.define {
  type = "string",
  starts_with = "/",
  match_none = {
    { pattern = "//", err = "must not have empty segments" },
  },
  custom_validator = validator("path"),
  description = "A URL path starting with a slash, without empty segments.",
}

typedefs.url = Schema.define {
  type = "string",
  custom_validator = validator("url"),
  description = "An absolute URL with a scheme and a host.",
}

typedefs.cookie_name = Schema.define {
  type = "string",
  custom_validator = validator("cookie_name"),
  description = "A cookie name (letters, digits, '-' and '_').",
}

typedefs.header_name = Schema.define {
  type = "string",
  custom_validator = validator("header_name"),
  description = "An HTTP header name (letters, digits, '-' and '_').",
}

typedefs.timeout = Schema.define {
  type = "integer",
  between = { 0, math.pow(2, 31) - 2 },
  description = "A timeout in milliseconds, from 0 to 2^31-2.",
}

typedefs.uuid = Schema.define {
  type = "string",
  uuid = true,
  auto = true,
  description = "A UUID, generated when not given.",
}

typedefs.auto_timestamp_s = Schema.define {
  type = "integer",
  timestamp = true,
  auto = true,
  description = "A Unix time in seconds, set automatically.",
}

typedefs.auto_timestamp_ms = Schema.define {
  type = "number",
  timestamp = true,
  auto = true,
  description = "A Unix time in seconds with millisecond precision, set automatically.",
}

typedefs.no_route = Schema.define {
  type = "foreign",
  reference = "routes",
  eq = null,
  description = "A route reference that must stay null.",
}

typedefs.no_service = Schema.define {
  type = "foreign",
  reference = "services",
  eq = null,
  description = "A service reference that must stay null.",
}

typedefs.no_consumer = Schema.define {
  type = "foreign",
  reference = "consumers",
  eq = null,
  description = "A consumer reference that must stay null.",
}

typedefs.name = Schema.define {
  type = "string",
  unique = true,
  custom_validator = validator("name"),
  description = "A unique name of letters, digits and '.', '-', '_', '~'.",
}

typedefs.utf8_name = Schema.define {
  type = "string",
  unique = true,
  custom_validator = validator("utf8_name"),
  description = "A unique name that may also hold UTF-8 characters.",
}

typedefs.sni = Schema.define {
  type = "string",
  custom_validator = validator("sni"),
  description = "A server name (SNI) for TLS: a host name, not an IP, without a port.",
}

typedefs.redis_server_name = Schema.define {
  type = "string",
  custom_validator = validator("sni"),
  description = "The server name (SNI) sent when connecting to Redis over TLS.",
}

typedefs.certificate = Schema.define {
  type = "string",
  custom_validator = validator("certificate"),
  description = "A PEM-encoded certificate.",
}

typedefs.key = Schema.define {
  type = "string",
  custom_validator = validator("key"),
  description = "A PEM-encoded private or public key.",
}

typedefs.tag = Schema.define {
  type = "string",
  required = true,
  custom_validator = validator("tag"),
  description = "A tag: printable characters except ',' and '/'.",
}

typedefs.tags = Schema.define {
  type = "set",
  elements = typedefs.tag,
  description = "A set of tags.",
}

typedefs.capability = Schema.define {
  type = "string",
  description = "The name of an RPC capability.",
}

local http_protocols = {}
for p, subsystem in pairs(constants.PROTOCOLS_WITH_SUBSYSTEM) do
  if subsystem == "http" then
    http_protocols[#http_protocols + 1] = p
  end
end
sort(http_protocols)

typedefs.protocols = Schema.define {
  type = "set",
  required = true,
  default = http_protocols,
  elements = typedefs.protocol,
  description = "The protocols this entity applies to.",
}

typedefs.protocols_http = Schema.define {
  type = "set",
  required = true,
  default = http_protocols,
  elements = { type = "string", one_of = http_protocols },
  description = "The HTTP-subsystem protocols this entity applies to.",
}

local function ip_port_set(description)
  return {
    type = "set",
    elements = {
      type = "record",
      fields = {
        { ip = typedefs.ip_or_cidr },
        { port = typedefs.port },
      },
      entity_checks = {
        { at_least_one_of = { "ip", "port" } },
      },
    },
    description = description,
  }
end

typedefs.sources = Schema.define(ip_port_set("Source addresses: each an ip (or CIDR range), a port, or both."))
typedefs.no_sources = Schema.define(typedefs.sources { eq = null, description = "Sources that must stay null." })

typedefs.destinations = Schema.define(ip_port_set("Destination addresses: each an ip (or CIDR range), a port, or both."))
typedefs.no_destinations = Schema.define(typedefs.destinations { eq = null, description = "Destinations that must stay null." })

typedefs.methods = Schema.define {
  type = "set",
  elements = typedefs.http_method,
  description = "A set of HTTP methods.",
}
typedefs.no_methods = Schema.define(typedefs.methods { eq = null, description = "Methods that must stay null." })

typedefs.hosts = Schema.define {
  type = "array",
  elements = {
    type = "string",
    match_all = {
      { pattern = "^[^*]*%*?[^*]*$", err = "invalid wildcard: must have at most one wildcard" },
    },
    match_any = {
      patterns = { "^%*%.", "%.%*$", "^[^*]*$" },
      err = "invalid wildcard: must be placed at leftmost or rightmost label",
    },
    custom_validator = validator("host_with_wildcards"),
  },
  description = "Host names, each optionally with a port and with at most one wildcard label.",
}
typedefs.no_hosts = Schema.define(typedefs.hosts { eq = null, description = "Hosts that must stay null." })

typedefs.router_path = Schema.define {
  type = "string",
  match_any = {
    patterns = { "^/", "^~/" },
    err = "should start with: / (fixed path) or ~/ (regex path)",
  },
  match_none = {
    { pattern = "//", err = "must not have empty segments" },
  },
  custom_validator = validator("router_path"),
  description = "A router path: a normalized prefix starting with '/', or a regex starting with '~/'.",
}

typedefs.router_paths = Schema.define {
  type = "array",
  elements = typedefs.router_path,
  description = "A list of router paths.",
}
typedefs.no_paths = Schema.define(typedefs.router_paths { eq = null, description = "Paths that must stay null." })

-- Kong ≤ 2.8 names, kept so that older plugins load: paths (the 2.x
-- routes.paths, regexes without "~"), run_on and run_on_first (1.x).
typedefs.paths = Schema.define {
  type = "array",
  elements = typedefs.path {
    match_none = {
      { pattern = "//", err = "must not have empty segments" },
    },
    custom_validator = validator("path_with_regexes"),
  },
  description = "A list of paths as Kong 2.x routes took them (prefixes or regexes).",
}

typedefs.run_on = Schema.define {
  type = "string",
  required = true,
  default = "first",
  one_of = { "first", "second", "all" },
}

typedefs.run_on_first = Schema.define {
  type = "string",
  required = true,
  default = "first",
  one_of = { "first" },
}

typedefs.headers = Schema.define {
  type = "map",
  keys = typedefs.header_name,
  values = {
    type = "array",
    elements = { type = "string" },
  },
  description = "Header names mapped to lists of values.",
}
typedefs.no_headers = Schema.define(typedefs.headers { eq = null, description = "Headers that must stay null." })

typedefs.semantic_version = Schema.define {
  type = "string",
  match_any = {
    patterns = { "^%d+[%.%d]*$", "^%d+[%.%d]*%-?.*$" },
    err = "invalid version number: must be in format of X.Y.Z",
  },
  match_none = {
    { pattern = "%.%.", err = "must not have empty version segments" },
  },
  description = "A version number X.Y.Z, optionally followed by '-' and a build label.",
}

typedefs.pem = Schema.define {
  type = "record",
  required = false,
  fields = {
    { private_key = { type = "string", required = false, referenceable = true, encrypted = true } },
    { public_key = { type = "string", required = false, referenceable = true } },
  },
  entity_checks = {
    { at_least_one_of = { "private_key", "public_key" } },
  },
  custom_validator = validator("pem"),
  description = "A PEM-encoded key pair (private key, public key, or both); vault references are accepted.",
}

local jwk_fields = {}
for _, name in ipairs {
  "issuer", "kty", "use", "key_ops", "alg", "kid", "x5u", "x5c", "x5t", "x5t#S256",
  "k", "x", "y", "crv", "n", "e", "d", "p", "q", "dp", "dq", "qi", "oth", "r", "t",
} do
  local f
  if name == "key_ops" or name == "x5c" then
    f = { type = "array", required = false, elements = { type = "string", required = false } }
  else
    f = { type = "string", required = (name == "kid") }
  end
  jwk_fields[#jwk_fields + 1] = { [name] = f }
end

typedefs.jwk = Schema.define {
  type = "record",
  required = false,
  fields = jwk_fields,
  custom_validator = validator("jwk"),
  description = "A JSON Web Key (JWK).",
}

typedefs.queue = require "kong.tools.queue_schema"

typedefs.propagation = require "kong.observability.tracing.propagation.schema"

-- validate_lua_expression: the code must compile (kong.tools.sandbox's
-- validate_safe; it is not run). Compiling needs Lua, so this one is a Lua
-- function run by the worker.
local UNTRUSTED_OFF = "loading of untrusted Lua code disabled because " ..
                      "'untrusted_lua' config option is set to 'off'"

local function validate_lua_expression(expression)
  local k = rawget(_G, "kong")
  local conf = type(k) == "table" and rawget(k, "configuration") or nil
  if type(conf) == "table" and conf.untrusted_lua == "off" then
    return false, "Error parsing function: " .. UNTRUSTED_OFF
  end
  local fn, err = loadstring(expression)
  if not fn then
    return false, "Error parsing function: " .. tostring(err)
  end
  return true
end

typedefs.lua_code = Schema.define {
  type = "map",
  keys = { type = "string", len_min = 1 },
  values = { type = "string", len_min = 1, custom_validator = validate_lua_expression },
  description = "Lua expressions keyed by name.",
}

typedefs.ttl = Schema.define {
  type = "number",
  between = { 0, constants.DATABASE.DAO_MAX_TTL },
  description = "A time to live in seconds.",
}

return setmetatable(typedefs, {
  __index = function(_, k)
    error("schema typedef error: definition " .. tostring(k) .. " does not exist", 2)
  end,
})
