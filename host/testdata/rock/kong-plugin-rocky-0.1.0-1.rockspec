-- A plugin repository as published: its files under src/, two plugins in
-- one rock and a library module outside kong.plugins.*, installed by
-- `luarocks make` from this rockspec.
local plugin = "rocky"
package = "kong-plugin-" .. plugin
version = "0.1.0-1"
source = { url = "git+https://example.invalid/kong-plugin-rocky.git", tag = "0.1.0" }
dependencies = { "lua >= 5.1" }
build = {
  type = "builtin",
  modules = {
    ["kong.plugins.rocky.handler"] = "src/rocky/handler.lua",
    ["kong.plugins.rocky.schema"] = "src/rocky/schema.lua",
    ["kong.plugins.rocky-two.handler"] = "src/rocky-two/handler.lua",
    ["kong.plugins.rocky-two.schema"] = "src/rocky-two/schema.lua",
    ["rocky_lib.greeting"] = "src/rocky_lib/greeting.lua",
  },
}
