-- proto-echo: reports the request's protocol as Kong's PDK and nginx's
-- variables give it, in access and in log.
local P = { PRIORITY = 100, VERSION = "1.0.0" }

local function proto()
  return table.concat({
    tostring(kong.request.get_http_version()),
    tostring(ngx.req.http_version()),
    ngx.var.server_protocol,
    ngx.var.http2,
    kong.request.get_scheme(),
  }, " ")
end

function P:access(conf)
  kong.response.set_header("X-Proto", proto())
end

function P:log(conf)
  ngx.shared.kong:set("proto-log", proto())
end

return P
