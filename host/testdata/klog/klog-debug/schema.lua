return {
  name = "klog-debug",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
