return {
  name = "klog-a",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
