return {
  name = "rocky",
  fields = {
    { config = { type = "record", fields = { { who = { type = "string", default = "world" } } } } },
  },
}
