return {
  PRIORITY = 1000,
  VERSION = "1.0.0",
}
