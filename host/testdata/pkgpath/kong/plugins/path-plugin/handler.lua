local lib = require "mylib.util"
local H = { PRIORITY = 30, VERSION = "1.0.0" }
function H:rewrite(conf) ngx.ctx.lib = lib.answer() end
return H
