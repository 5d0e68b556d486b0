-- spec.internal.constants (Kong 3.x): the spec helpers' constants, with
-- the mock upstream where luahost's runs
local helpers = require "spec.helpers"
return helpers._constants
