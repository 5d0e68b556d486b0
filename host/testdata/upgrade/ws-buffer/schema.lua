return {
  name = "ws-buffer",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
