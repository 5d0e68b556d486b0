return {
  name = "runaway",
  fields = {
    { config = { type = "record", fields = { { spin = { type = "boolean", default = false } } } } },
  },
}
