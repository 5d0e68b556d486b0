local endpoints = require "kong.api.endpoints"

return {
  ["/apiargs/items"] = {
    GET = function(self, db, helpers)
      local size = self.args.uri.size or 10
      return kong.response.exit(200, { size = size })
    end,
  },
}
