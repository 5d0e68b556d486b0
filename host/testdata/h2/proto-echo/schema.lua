return {
  name = "proto-echo",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
