return {
  {
    name = "widgets",
    primary_key = { "id" },
    fields = {
      { id = { type = "string", bogus_attr = true } },
    },
  },
}
