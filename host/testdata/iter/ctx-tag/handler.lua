-- ctx-tag: keeps the request's X-Tag in ngx.ctx, kong.ctx.plugin and
-- kong.ctx.shared in access, and reads all three back (with the header and
-- its configuration's tag) in header_filter, as X-Ctx-Tag, and in log, in
-- ngx.shared.kong under "log:<tag>". Requests interleaved on one worker
-- must each see their own.
local H = { PRIORITY = 500, VERSION = "1.0.0" }

local function seen(conf)
  return table.concat({
    tostring(ngx.ctx.tag), tostring(kong.ctx.plugin.tag), tostring(kong.ctx.shared.tag),
    tostring(kong.request.get_header("x-tag")), tostring(conf.tag),
  }, "/")
end

function H:access(conf)
  local tag = kong.request.get_header("x-tag")
  ngx.ctx.tag = tag
  kong.ctx.plugin.tag = tag
  kong.ctx.shared.tag = tag
end

function H:header_filter(conf)
  kong.response.set_header("X-Ctx-Tag", seen(conf))
end

function H:log(conf)
  ngx.shared.kong:set("log:" .. tostring(ngx.ctx.tag), seen(conf))
end

return H
