-- apikey-0x: an api-key authentication plugin written as seed 003 (Kong
-- 0.x) describes it: a BasePlugin handler whose access phase reads the key
-- from the query string, finds the credential with the old DAO's
-- find_by_keys through kong.tools.database_cache, and answers through
-- kong.tools.responses (401 without a key, 403 for an unknown one).
local BasePlugin = require "kong.plugins.base_plugin"
local cache = require "kong.tools.database_cache"
local responses = require "kong.tools.responses"

local ApiKeyHandler = BasePlugin:extend()

ApiKeyHandler.PRIORITY = 990

function ApiKeyHandler:new()
  ApiKeyHandler.super.new(self, "apikey-0x")
end

local function load_credential(apikey)
  local apikeys, err = dao.apikeys:find_by_keys({ apikey = apikey })
  if err then
    return responses.send_HTTP_INTERNAL_SERVER_ERROR(err)
  elseif #apikeys == 1 then
    return apikeys[1]
  end
end

function ApiKeyHandler:access(conf)
  ApiKeyHandler.super.access(self)

  local args = ngx.req.get_uri_args()
  local apikey = args[conf.key_name]
  if type(apikey) ~= "string" or apikey == "" then
    return responses.send_HTTP_UNAUTHORIZED("No API key found in request")
  end

  local credential = cache.get_or_set("apikeys." .. apikey, function()
    return load_credential(apikey)
  end)
  if not credential then
    return responses.send_HTTP_FORBIDDEN("Invalid authentication credentials")
  end

  if conf.hide_credentials then
    args[conf.key_name] = nil
    ngx.req.set_uri_args(args)
  end
  ngx.req.set_header("X-Consumer-ID", credential.consumer_id)
  ngx.req.set_header("X-Credential-ID", credential.id)
  ngx.ctx.authenticated_credential = credential
end

return ApiKeyHandler
