local helper = require "kong.plugins.fresh-mod.helper"
require "kong.plugins.fresh-mod.filter"

return {
  PRIORITY = 1,
  VERSION = "1.0.0",
  access = function() return helper.marker() end,
}
