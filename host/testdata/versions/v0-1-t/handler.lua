return { PRIORITY = 1, VERSION = "0.1-t" }
