return { PRIORITY = 2000, VERSION = "3.10.0-t", access = function() end }
