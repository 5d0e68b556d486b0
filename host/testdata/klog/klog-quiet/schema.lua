return {
  name = "klog-quiet",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
