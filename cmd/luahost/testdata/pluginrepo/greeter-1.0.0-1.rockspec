package = "kong-plugin-greeter"
version = "1.0.0-1"
source = { url = "git+https://example.invalid/greeter.git" }
dependencies = {}
build = {
  type = "builtin",
  modules = {
    ["kong.plugins.greeter.handler"] = "kong/plugins/greeter/handler.lua",
    ["kong.plugins.greeter.schema"] = "kong/plugins/greeter/schema.lua",
  },
}
