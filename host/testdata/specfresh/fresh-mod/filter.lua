require("fresh_registry").register("fresh-filter")

return {}
