return {
  name = "arrayorder",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
