return {
  name = "auth-lite",
  fields = {
    { config = {
        type = "record",
        fields = {
          { tag = { type = "string" } },
          { consumer_id = { type = "string" } },
        },
      },
    },
  },
}
