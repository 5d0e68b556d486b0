return {
  name = "timer-start",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
