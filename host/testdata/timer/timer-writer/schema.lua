return {
  name = "timer-writer",
  fields = {
    { config = { type = "record", fields = { { tag = { type = "string", default = "access" } } } } },
  },
}
