return {
  name = "mapdaos",
  fields = {
    { config = { type = "record", fields = {} } },
  },
}
