-- token-auth: authenticate requests by an API token stored in a custom
-- entity (token_credentials), loaded through kong.cache as Kong's
-- "Caching custom entities" guide does.
local kong = kong

local TokenAuth = {
  PRIORITY = 1250,
  VERSION = "1.1.0",
}

local function load_credential(token)
  local cred, err = kong.db.token_credentials:select_by_key(token)
  if not cred then
    return nil, err
  end
  return cred, nil, cred.ttl
end

local function load_consumer(consumer_id)
  return kong.db.consumers:select({ id = consumer_id })
end

function TokenAuth:access(conf)
  local token = kong.request.get_header(conf.header_name)
  if not token and conf.query_param then
    token = kong.request.get_query_arg(conf.query_param)
  end
  if type(token) ~= "string" or token == "" then
    return kong.response.exit(401, { message = "No API token found in request" })
  end

  local cache_key = kong.db.token_credentials:cache_key(token)
  local cred, err = kong.cache:get(cache_key, nil, load_credential, token)
  if err then
    kong.log.err(err)
    return kong.response.exit(500, { message = "An unexpected error occurred" })
  end
  if not cred then
    return kong.response.exit(401, { message = "Invalid authentication credentials" })
  end

  local consumer_key = kong.db.consumers:cache_key(cred.consumer.id)
  local consumer, cerr = kong.cache:get(consumer_key, nil, load_consumer, cred.consumer.id)
  if cerr then
    kong.log.err(cerr)
    return kong.response.exit(500, { message = "An unexpected error occurred" })
  end

  kong.client.authenticate(consumer, cred)
  if not conf.hide_credentials then
    return
  end
  kong.service.request.clear_header(conf.header_name)
end

return TokenAuth
