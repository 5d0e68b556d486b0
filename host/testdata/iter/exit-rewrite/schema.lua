return {
  name = "exit-rewrite",
  fields = {
    { config = {
        type = "record",
        fields = {
          { header_name = { type = "string", default = "X-Exit-Early" } },
        },
      },
    },
  },
}
