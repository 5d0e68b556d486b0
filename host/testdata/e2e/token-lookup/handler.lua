-- A handler that reads and writes token-auth's entity through kong.db.
local Lookup = { PRIORITY = 900, VERSION = "1.0.0" }

function Lookup:access(conf)
  local cred, err = kong.db.token_credentials:select_by_key(conf.key)
  if err then
    error(err)
  end
  ngx.ctx.consumer_id = cred and cred.consumer.id
  ngx.ctx.cache_key = kong.db.token_credentials:cache_key(conf.key)
end

function Lookup:log(conf)
  local cred = assert(kong.db.token_credentials:select_by_key(conf.key))
  local updated, err = kong.db.token_credentials:update({ id = cred.id }, { label = "seen" })
  if not updated then
    error(err)
  end
  local _, _, err_t = kong.db.token_credentials:insert({ consumer = cred.consumer, key = conf.key })
  ngx.ctx.dup_code = err_t and err_t.code
end

return Lookup
