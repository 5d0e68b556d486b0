local dep = require "shared_dep"
return { PRIORITY = 1, VERSION = "1.0.0" }
