-- apikey-0x's Admin API, a Kong 0.x api.lua over kong.api.crud_helpers:
-- handlers get (self, dao_factory, helpers).
local crud = require "kong.api.crud_helpers"

return {
  ["/consumers/:username_or_id/apikeys/"] = {
    before = function(self, dao_factory, helpers)
      crud.find_consumer_by_username_or_id(self, dao_factory, helpers)
      self.params.consumer_id = self.consumer.id
    end,

    GET = function(self, dao_factory)
      crud.paginated_set(self, dao_factory.apikeys)
    end,

    PUT = function(self, dao_factory)
      crud.put(self.params, dao_factory.apikeys)
    end,

    POST = function(self, dao_factory)
      crud.post(self.params, dao_factory.apikeys)
    end,
  },

  ["/consumers/:username_or_id/apikeys/:apikey_or_id"] = {
    before = function(self, dao_factory, helpers)
      crud.find_consumer_by_username_or_id(self, dao_factory, helpers)
      self.params.consumer_id = self.consumer.id

      local credentials, err = crud.find_by_id_or_field(dao_factory.apikeys,
        { consumer_id = self.params.consumer_id }, self.params.apikey_or_id, "apikey")
      if err then
        return helpers.yield_error(err)
      elseif next(credentials) == nil then
        return helpers.responses.send_HTTP_NOT_FOUND()
      end
      self.params.apikey_or_id = nil
      self.apikey = credentials[1]
    end,

    GET = function(self, dao_factory, helpers)
      return helpers.responses.send_HTTP_OK(self.apikey)
    end,

    PATCH = function(self, dao_factory)
      crud.patch(self.params, dao_factory.apikeys, self.apikey)
    end,

    DELETE = function(self, dao_factory)
      crud.delete(self.apikey, dao_factory.apikeys)
    end,
  },
}
