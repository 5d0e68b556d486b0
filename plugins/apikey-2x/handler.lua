-- apikey-2x: api-key authentication as a Kong 1.x/2.x plugin wrote it: a
-- BasePlugin handler reading the credential through kong.cache with the
-- entity's cache_key (invalidated by the core on update and delete).
local BasePlugin = require "kong.plugins.base_plugin"

local ApiKey2Handler = BasePlugin:extend()

ApiKey2Handler.PRIORITY = 980
ApiKey2Handler.VERSION = "2.0.0"

function ApiKey2Handler:new()
  ApiKey2Handler.super.new(self, "apikey-2x")
end

local function load_credential(key)
  local cred, err = kong.db.apikeys2:select_by_key(key)
  if err then
    return nil, err
  end
  return cred
end

function ApiKey2Handler:access(conf)
  ApiKey2Handler.super.access(self)

  local key = kong.request.get_query_arg(conf.key_name)
  if type(key) ~= "string" or key == "" then
    return kong.response.exit(401, { message = "No API key found in request" })
  end

  local cred, err = kong.cache:get(kong.db.apikeys2:cache_key(key), nil, load_credential, key)
  if err then
    kong.log.err(err)
    return kong.response.exit(500, { message = "An unexpected error occurred" })
  end
  if not cred then
    return kong.response.exit(403, { message = "Invalid authentication credentials" })
  end
  kong.service.request.set_header("X-Consumer-ID", cred.consumer.id)
  kong.service.request.set_header("X-Credential-ID", cred.id)
end

return ApiKey2Handler
