-- resp-phase: a response handler (Kong's buffered proxying): it reads the
-- upstream's whole body and says how long it was.
local trace = require "kong.plugins.trace-a.trace"

local H = { PRIORITY = 700, VERSION = "1.0.0" }

function H:access(conf)
  trace.add("resp-phase", "access", conf)
end

function H:response(conf)
  trace.add("resp-phase", "response", conf)
  local body = kong.service.response.get_raw_body()
  kong.response.set_header("X-Upstream-Body", tostring(kong.service.response.get_status()) .. ":" .. #body)
end

function H:log(conf)
  trace.add("resp-phase", "log", conf)
end

return H
