return {
  name = "runaway",
  fields = {
    { config = { type = "record", fields = {
      { spin = { type = "boolean", default = false } },
      { swallow = { type = "boolean", default = false } },
      { late = { type = "boolean", default = false } },
    } } },
  },
}
