return {
  name = "klog-b",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
