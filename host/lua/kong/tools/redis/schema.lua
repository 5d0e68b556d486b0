-- luahost shim for Kong's `kong.tools.redis.schema` (3.x). Covers:
-- config_schema, the "Redis configuration" record plugins embed (host,
-- port 6379, timeout 2000, username, password, database 0, ssl false,
-- ssl_verify false, server_name), built from kong.db.schema.typedefs.

local typedefs = require "kong.db.schema.typedefs"

local DEFAULT_TIMEOUT = 2000

return {
  config_schema = {
    type = "record",
    description = "Redis configuration",
    fields = {
      { host = typedefs.host },
      { port = typedefs.port { default = 6379 } },
      { timeout = typedefs.timeout { default = DEFAULT_TIMEOUT } },
      { username = {
          type = "string",
          referenceable = true,
          description = "Redis ACL user name (Redis 6+); unset: no ACL authentication.",
      } },
      { password = {
          type = "string",
          encrypted = true,
          referenceable = true,
          len_min = 0,
          description = "Redis password; unset: no AUTH command is sent.",
      } },
      { database = {
          type = "integer",
          default = 0,
          description = "Redis database number.",
      } },
      { ssl = {
          type = "boolean",
          required = false,
          default = false,
          description = "Connect to Redis over TLS.",
      } },
      { ssl_verify = {
          type = "boolean",
          required = false,
          default = false,
          description = "Verify the Redis server's TLS certificate.",
      } },
      { server_name = typedefs.sni { required = false } },
    },
  },
}
