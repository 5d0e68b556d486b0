return {
  {
    name = "things",
    primary_key = { "id" },
    fields = {
      { id = { type = "string" } }
      { name = { type = "string" } },
    },
  },
}
