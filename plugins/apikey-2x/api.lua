-- apikey-2x's Admin API, old-style routes (no schema) written against
-- kong.db, with no crud_helpers (Kong 1.x/2.x).
local function consumer_of(self)
  local id = self.params.consumer
  local consumer, err
  if id:match("^%x+%-%x+%-%x+%-%x+%-%x+$") then
    consumer, err = kong.db.consumers:select({ id = id })
  else
    consumer, err = kong.db.consumers:select_by_username(id)
  end
  if err then
    kong.log.err(err)
    return kong.response.exit(500, { message = "An unexpected error occurred" })
  end
  if not consumer then
    return kong.response.exit(404, { message = "Not found" })
  end
  return consumer
end

local function credential_of(self, consumer)
  local cred, err = kong.db.apikeys2:select_by_key(self.params.key)
  if err then
    kong.log.err(err)
    return kong.response.exit(500, { message = "An unexpected error occurred" })
  end
  if not cred or cred.consumer.id ~= consumer.id then
    return kong.response.exit(404, { message = "Not found" })
  end
  return cred
end

local function db_error(err_t)
  local status = ({ [2] = 400, [4] = 400, [5] = 409 })[err_t.code] or 500
  if status == 500 then
    kong.log.err(tostring(err_t))
    return kong.response.exit(500, { message = "An unexpected error occurred" })
  end
  return kong.response.exit(status, err_t)
end

return {
  ["/consumers/:consumer/apikeys2"] = {
    GET = function(self)
      local consumer = consumer_of(self)
      local data = setmetatable({}, require("cjson").array_mt)
      for cred, err in kong.db.apikeys2:each_for_consumer({ id = consumer.id }) do
        if not cred then
          kong.log.err(err)
          return kong.response.exit(500, { message = "An unexpected error occurred" })
        end
        data[#data + 1] = cred
      end
      return kong.response.exit(200, { data = data })
    end,

    POST = function(self)
      local consumer = consumer_of(self)
      local cred, _, err_t = kong.db.apikeys2:insert({ consumer = { id = consumer.id }, key = self.params.key })
      if not cred then
        return db_error(err_t)
      end
      return kong.response.exit(201, cred)
    end,
  },

  ["/consumers/:consumer/apikeys2/:key"] = {
    PATCH = function(self)
      local cred = credential_of(self, consumer_of(self))
      local updated, _, err_t = kong.db.apikeys2:update({ id = cred.id }, { key = self.params.new_key })
      if not updated then
        return db_error(err_t)
      end
      return kong.response.exit(200, updated)
    end,

    DELETE = function(self)
      local cred = credential_of(self, consumer_of(self))
      local ok, _, err_t = kong.db.apikeys2:delete({ id = cred.id })
      if not ok then
        return db_error(err_t)
      end
      return kong.response.exit(204)
    end,
  },
}
