return { PRIORITY = 1, VERSION = "2.1.0" }
