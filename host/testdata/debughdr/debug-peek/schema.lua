return {
  name = "debug-peek",
  fields = {
    { config = {
        type = "record",
        fields = {
          { route_name = { type = "string" } },
          { exit = { type = "boolean", default = false } },
        },
    } },
  },
}
