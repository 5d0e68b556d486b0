-- ws-probe: records, in ngx.shared.kong's "ws-trace", the phases of the
-- requests it runs for (WebSocket upgrades among them) and what
-- kong.log.serialize says in log; answers 403 in access when the client
-- sends X-Deny.
local H = { PRIORITY = 1000, VERSION = "1.0.0" }

local function add(item)
  local dict = ngx.shared.kong
  local cur = dict:get("ws-trace")
  dict:set("ws-trace", cur and (cur .. " " .. item) or item)
end

function H:access(conf)
  add("access")
  if kong.request.get_header("x-deny") then
    return kong.response.exit(403, { message = "denied" })
  end
end

function H:header_filter(conf)
  add("header_filter:" .. tostring(kong.response.get_status()))
  kong.response.set_header("X-Probe", "seen")
end

function H:body_filter(conf)
  add("body_filter")
end

function H:log(conf)
  local s = kong.log.serialize()
  add("log:" .. tostring(s.response.status) .. ":" .. tostring(s.upstream_status) ..
      ":" .. type(s.latencies.request))
end

return H
