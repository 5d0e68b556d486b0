local thing = require "resty.thing"
return { PRIORITY = 10, VERSION = "1.0.0", access = function() ngx.ctx.thing = thing.value() end }
