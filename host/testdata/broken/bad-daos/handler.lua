return {
  PRIORITY = 10,
  VERSION = "0.1.0",
}
