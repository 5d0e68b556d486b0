-- Old-style routes: handlers get (self, dao = {}, helpers).
local kong = kong

return {
  ["/legacy/:name"] = {
    before = function(self)
      if self.params.name == "forbidden" then
        return kong.response.exit(403, { message = "no" })
      end
    end,
    GET = function(self, dao, helpers)
      return kong.response.exit(200, { name = self.params.name, q = self.params.q, dao = type(dao) })
    end,
    DELETE = function(self)
      kong.cache:invalidate("legacy:" .. self.params.name)
      return kong.response.exit(204)
    end,
  },
}
