return {
  name = "legacy-responses",
  fields = {
    { config = {
        type = "record",
        fields = {
          { helper = { type = "string", default = "send" } },
          { status = { type = "integer", default = 200 } },
          { message = { type = "string" } },
          { table_body = { type = "boolean", default = false } },
          { content_type = { type = "string" } },
        },
      },
    },
  },
}
