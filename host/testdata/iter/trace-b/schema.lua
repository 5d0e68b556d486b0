return {
  name = "trace-b",
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
