return {
  {
    name = "things",
    primary_key = { "id" },
    fields = {
      { id = { type = "string" } },
      { owner = { type = "foreign", reference = "nobody" } },
    },
  },
}
