return {
  name = "spin",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
