return {
  name = "consumer-header",
  fields = {
    { config = {
        type = "record",
        fields = {
          { header_name = { type = "string", default = "X-Consumer-Username" } },
        },
      },
    },
  },
}
