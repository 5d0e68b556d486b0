package = "kong-plugin-needs-thing"
version = "1.0.0-1"
source = { url = "git+https://example.invalid/needs-thing.git" }
dependencies = { "lua >= 5.1", "lua-resty-thing >= 0.3", "lua-resty-absent ~> 1" }
build = {
  type = "builtin",
  modules = {
    ["kong.plugins.needs-thing.handler"] = "src/handler.lua",
    ["kong.plugins.needs-thing.schema"] = "src/schema.lua",
    ["kong.plugins.needs-absent.handler"] = "src/absent_handler.lua",
    ["kong.plugins.needs-absent.schema"] = "src/absent_schema.lua",
  },
}
