return { PRIORITY = 1, VERSION = "1.2.3.4" }
