-- response-stamp: adds a header to every response, naming the node and how
-- long the request took inside the gateway. Handler only: no entity.
local kong = kong
local ngx = ngx

local Stamp = {
  PRIORITY = 800,
  VERSION = "1.0.0",
}

function Stamp:access(conf)
  kong.ctx.plugin.started = ngx.now()
end

function Stamp:header_filter(conf)
  local started = kong.ctx.plugin.started or ngx.now()
  local took_ms = math.floor((ngx.now() - started) * 1000 + 0.5)
  kong.response.set_header(conf.header_name, conf.prefix .. " " .. took_ms .. "ms")
end

return Stamp
