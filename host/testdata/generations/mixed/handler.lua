local cache = require "kong.tools.database_cache"
return { PRIORITY = 7, VERSION = "1.0.0", access = function() cache.get("x") end }
