return {
  name = "trace-a",
  fields = {
    { config = {
        type = "record",
        fields = {
          { tag = { type = "string" } },
          { fail = { type = "boolean", default = false } },
          { spin = { type = "boolean", default = false } },
        },
      },
    },
  },
}
