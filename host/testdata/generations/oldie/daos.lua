-- the map form (name -> schema) of 0.x-era plugins
return {
  oldies = {
    name = "oldies",
    primary_key = { "id" },
    fields = {
      { id = { type = "string", uuid = true, auto = true } },
      { key = { type = "string", required = true } },
    },
  },
}
