return { PRIORITY = 901, VERSION = "1.0", log = function() end }
