-- auth-lite: authenticates every request as the consumer its config names,
-- the way kong.client.authenticate leaves ngx.ctx (no credential check).
local trace = require "kong.plugins.trace-a.trace"

local H = { PRIORITY = 2000, VERSION = "1.0.0" }

-- ngx.ctx belongs to a request: what init_worker leaves in it must not
-- reach the first request
function H:init_worker()
  ngx.ctx.leaked = true
end

function H:access(conf)
  trace.add("auth-lite", "access", ngx.ctx.leaked and { tag = "ctx leaked from init_worker" } or conf)
  if conf.consumer_id then
    ngx.ctx.authenticated_consumer = { id = conf.consumer_id }
  end
end

return H
