return {
  name = "upvalue-keeper",
  fields = {
    { config = { type = "record", fields = { { tag = { type = "string", default = "access" } } } } },
  },
}
