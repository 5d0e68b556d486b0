-- spec.internal.shell (Kong 3.x): these functions of spec.helpers
local helpers = require "spec.helpers"
return {
  exec = helpers.execute,
  kong_exec = helpers.kong_exec,
}
