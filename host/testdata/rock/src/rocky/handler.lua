local greeting = require "rocky_lib.greeting"
local ngx_mod = require "ngx"

local Rocky = { PRIORITY = 900, VERSION = "0.1.0-1" }

function Rocky:access(conf)
  ngx.ctx.rocky = greeting.hello(conf.who)
  ngx.ctx.same_ngx = ngx_mod == ngx
end

return Rocky
