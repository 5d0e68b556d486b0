-- spec.internal.asserts (Kong 3.x): Kong's assertions (res_status,
-- response, request, logfile, fail) are registered when spec.helpers
-- loads; requiring this module makes sure it has
require "spec.helpers"
return {}
