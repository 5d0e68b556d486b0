-- luahost shim for Kong's `kong.tools.module` (3.x). Covers:
-- load_module_if_exists (same as kong.tools.utils').

return {
  load_module_if_exists = require("kong.tools.utils").load_module_if_exists,
}
