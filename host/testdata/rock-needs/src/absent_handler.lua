local absent = require "resty.absent"
return { PRIORITY = 11, VERSION = "1.0.0", access = function() absent.go() end }
