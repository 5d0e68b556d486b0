return { PRIORITY = 3, VERSION = "1.0.0" }
