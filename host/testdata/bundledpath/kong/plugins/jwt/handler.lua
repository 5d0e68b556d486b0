local ffi = require "ffi"
return { PRIORITY = 1450, VERSION = "3.10.0" }
