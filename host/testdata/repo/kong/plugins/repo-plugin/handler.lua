local helper = require "kong.plugins.repo-plugin.helper"
return { PRIORITY = 20, VERSION = "2.0", access = function(self, conf) ngx.ctx.helper = helper.name end }
