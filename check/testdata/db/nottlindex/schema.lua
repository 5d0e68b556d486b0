return {
  name = "nottlindex",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
