-- luahost shim for Kong's `kong.constants` (kong/constants.lua, 3.x, with
-- the 2.x keys plugins still read: HEADERS.CREDENTIAL_USERNAME,
-- DATABASE.CASSANDRA, DECLARATIVE_PAGE_KEY).
-- Covers: BUNDLED_PLUGINS / DEPRECATED_PLUGINS / BUNDLED_VAULTS (sets),
-- HEADERS, CORE_ENTITIES (array and set), ENTITY_CACHE_STORE, RATELIMIT,
-- REPORTS, DICTS, DATABASE, PROTOCOLS, PROTOCOLS_WITH_SUBSYSTEM, the
-- DECLARATIVE_* and CLUSTERING_* keys, KEY_FORMATS, LOG_LEVELS,
-- CJSON_MAX_PRECISION, RESPONSE_SOURCE, SCHEMA_NAMESPACES, the
-- DYN_LOG_LEVEL_* keys.

-- set builds { [v] = true } from a list.
local function set(list)
  local s = {}
  for _, v in ipairs(list) do
    s[v] = true
  end
  return s
end

local bundled_plugins = set {
  "jwt", "acl", "correlation-id", "cors", "oauth2", "tcp-log", "udp-log",
  "file-log", "http-log", "key-auth", "hmac-auth", "basic-auth",
  "ip-restriction", "request-transformer", "response-transformer",
  "request-size-limiting", "rate-limiting", "response-ratelimiting",
  "syslog", "loggly", "datadog", "ldap-auth", "statsd", "bot-detection",
  "aws-lambda", "request-termination", "prometheus", "proxy-cache",
  "session", "acme", "grpc-gateway", "grpc-web", "pre-function",
  "post-function", "azure-functions", "zipkin", "opentelemetry",
  "ai-proxy", "ai-prompt-decorator", "ai-prompt-template",
  "ai-prompt-guard", "ai-request-transformer", "ai-response-transformer",
  "standard-webhooks", "redirect",
}

-- protocol -> nginx subsystem
local protocols_with_subsystem = {
  http = "http", https = "http", grpc = "http", grpcs = "http",
  tcp = "stream", tls = "stream", udp = "stream", tls_passthrough = "stream",
}

local protocols = {}
for p in pairs(protocols_with_subsystem) do
  protocols[#protocols + 1] = p
end
table.sort(protocols)

local key_formats_map = { jwk = true, pem = true }
local key_formats = { "jwk", "pem" }

local core_entities = {
  "workspaces", "consumers", "certificates", "services", "routes", "snis",
  "upstreams", "targets", "plugins", "tags", "ca_certificates",
  "clustering_data_planes", "parameters", "vaults", "key_sets", "keys",
  "filter_chains",
}
for _, name in ipairs(core_entities) do
  core_entities[name] = true
end

local sync_status = {
  { UNKNOWN = "unknown" },
  { NORMAL = "normal" },
  { KONG_VERSION_INCOMPATIBLE = "kong_version_incompatible" },
  { PLUGIN_SET_INCOMPATIBLE = "plugin_set_incompatible" },
  { PLUGIN_VERSION_INCOMPATIBLE = "plugin_version_incompatible" },
  { FILTER_SET_INCOMPATIBLE = "filter_set_incompatible" },
}
for _, pair in ipairs(sync_status) do
  local k, v = next(pair)
  sync_status[k] = v
end

local log_levels = {
  debug = ngx.DEBUG, info = ngx.INFO, notice = ngx.NOTICE, warn = ngx.WARN,
  error = ngx.ERR, crit = ngx.CRIT, alert = ngx.ALERT, emerg = ngx.EMERG,
}
for name, lvl in pairs(log_levels) do
  log_levels[lvl] = name
end

return {
  CJSON_MAX_PRECISION = 16,
  BUNDLED_PLUGINS = bundled_plugins,
  DEPRECATED_PLUGINS = {},
  BUNDLED_VAULTS = set { "env" },
  DEPRECATED_VAULTS = {},

  -- headers Kong adds or reads
  HEADERS = {
    HOST_OVERRIDE = "X-Host-Override",
    PROXY_LATENCY = "X-Kong-Proxy-Latency",
    RESPONSE_LATENCY = "X-Kong-Response-Latency",
    ADMIN_LATENCY = "X-Kong-Admin-Latency",
    UPSTREAM_LATENCY = "X-Kong-Upstream-Latency",
    UPSTREAM_STATUS = "X-Kong-Upstream-Status",
    CONSUMER_ID = "X-Consumer-ID",
    CONSUMER_CUSTOM_ID = "X-Consumer-Custom-ID",
    CONSUMER_USERNAME = "X-Consumer-Username",
    CREDENTIAL_USERNAME = "X-Credential-Username", -- 2.x, deprecated there
    CREDENTIAL_IDENTIFIER = "X-Credential-Identifier",
    RATELIMIT_LIMIT = "X-RateLimit-Limit",
    RATELIMIT_REMAINING = "X-RateLimit-Remaining",
    CONSUMER_GROUPS = "X-Consumer-Groups",
    AUTHENTICATED_GROUPS = "X-Authenticated-Groups",
    FORWARDED_HOST = "X-Forwarded-Host",
    FORWARDED_PATH = "X-Forwarded-Path",
    FORWARDED_PREFIX = "X-Forwarded-Prefix",
    ANONYMOUS = "X-Anonymous-Consumer",
    REQUEST_ID = "X-Kong-Request-Id",
    VIA = "Via",
    SERVER = "Server",
  },

  -- in dependency order; also a set (CORE_ENTITIES.routes == true)
  CORE_ENTITIES = core_entities,

  -- which cache an entity's rows live in; "cache" for any other entity
  ENTITY_CACHE_STORE = setmetatable({
    consumers = "cache",
    certificates = "core_cache",
    services = "core_cache",
    routes = "core_cache",
    snis = "core_cache",
    upstreams = "core_cache",
    targets = "core_cache",
    plugins = "core_cache",
    tags = "cache",
    ca_certificates = "core_cache",
    vaults = "core_cache",
    key_sets = "core_cache",
    keys = "core_cache",
  }, { __index = function() return "cache" end }),

  RATELIMIT = {
    PERIODS = { "second", "minute", "hour", "day", "month", "year" },
  },

  REPORTS = {
    ADDRESS = "kong-hf.konghq.com",
    STATS_TLS_PORT = 61833,
  },

  DICTS = {
    "kong", "kong_locks", "kong_db_cache", "kong_db_cache_miss",
    "kong_cluster_events", "kong_healthchecks",
    "kong_rate_limiting_counters", "kong_secrets",
  },

  DATABASE = {
    POSTGRES = { MIN = "9.5" },
    CASSANDRA = { MIN = "3.0", DEPRECATED = "2.2" }, -- 2.x; removed in 3.0
    DAO_MAX_TTL = 1e8, -- about three years: keeps time() + ttl in range
  },

  PROTOCOLS = protocols,
  PROTOCOLS_WITH_SUBSYSTEM = protocols_with_subsystem,

  DECLARATIVE_DEFAULT_WORKSPACE_ID = "0dc6f45b-8f8d-40d2-a504-473544ee190b",
  DECLARATIVE_PAGE_KEY = "declarative:page", -- 2.x
  DECLARATIVE_LOAD_KEY = "declarative_config:loaded",
  DECLARATIVE_HASH_KEY = "declarative_config:hash",
  DECLARATIVE_DEFAULT_WORKSPACE_KEY = "declarative_config:default_workspace",
  DECLARATIVE_EMPTY_CONFIG_HASH = string.rep("0", 32),
  PLUGINS_REBUILD_COUNTER_KEY = "readiness_probe_config:plugins_rebuild_counter",
  ROUTERS_REBUILD_COUNTER_KEY = "readiness_probe_config:routers_rebuild_counter",

  CLUSTER_ID_PARAM_KEY = "cluster_id",
  CLUSTERING_SYNC_STATUS = sync_status,
  CLUSTERING_TIMEOUT = 5000,
  CLUSTERING_PING_INTERVAL = 30,
  CLUSTERING_OCSP_TIMEOUT = 5000,
  CLUSTERING_DATA_PLANE_ERROR = {
    CONFIG_PARSE = "declarative configuration parse failure",
    DELTAS_PARSE = "sync deltas parse failure",
    RELOAD = "configuration reload failed",
    GENERIC = "generic or unknown error",
  },
  CLUSTERING_DATA_PLANES_LATEST_VERSION_KEY = "clustering_data_planes:latest_version",
  CLEAR_HEALTH_STATUS_DELAY = 300,

  KEY_FORMATS_MAP = key_formats_map,
  KEY_FORMATS = key_formats,

  -- name -> ngx level and ngx level -> name
  LOG_LEVELS = log_levels,
  DYN_LOG_LEVEL_KEY = "kong:dyn_log_level",
  DYN_LOG_LEVEL_TIMEOUT_AT_KEY = "kong:dyn_log_level_timeout_at",
  DYN_LOG_LEVEL_DEFAULT_TIMEOUT = 60,

  ADMIN_GUI_KCONFIG_CACHE_KEY = "admin:gui:kconfig",
  REQUEST_DEBUG_TOKEN_FILE = ".request_debug_token",
  REQUEST_DEBUG_LOG_PREFIX = "[request-debug]",

  SCHEMA_NAMESPACES = {
    PROXY_WASM_FILTERS = "proxy-wasm-filters",
  },

  RESPONSE_SOURCE = {
    TYPES = { ERROR = "error", EXIT = "exit", SERVICE = "service" },
    NAMES = { error = "kong", exit = "kong", service = "upstream" },
  },
}
