-- legacy-cache: seed 003's access.lua: a credential looked up with
-- database_cache.get_or_set, whose loader may answer 500 through
-- kong.tools.responses; counts its loads in ngx.shared.kong.
local cache = require "kong.tools.database_cache"
local responses = require "kong.tools.responses"

local H = { PRIORITY = 1000, VERSION = "0.1.0" }

local credentials = { good = { key = "good", consumer = "c1" } }

function H:access(conf)
  local credential
  local apikey = ngx.req.get_uri_args().apikey
  if apikey then
    credential = cache.get_or_set("apikeys." .. apikey, function()
      ngx.shared.kong:incr("legacy-cache-loads", 1, 0)
      if apikey == "explode" then
        return responses.send_HTTP_INTERNAL_SERVER_ERROR("datastore down")
      end
      return credentials[apikey]
    end)
  end
  if not credential then
    return responses.send_HTTP_FORBIDDEN("Invalid authentication credentials")
  end
  ngx.req.set_header("X-Consumer-Seen", credential.consumer)
end

return H
