-- Admin API helpers are only there once the Admin API runs.
local endpoints = require "kong.api.endpoints"

return {
  ["/with-api/ping"] = {
    GET = function(self, db, helpers)
      return kong.response.exit(200, { pong = true })
    end,
  },
}
