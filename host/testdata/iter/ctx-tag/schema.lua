return {
  name = "ctx-tag",
  fields = {
    { config = { type = "record", fields = { { tag = { type = "string" } } } } },
  },
}
