-- legacy-utils: answers with what 0.x's kong.tools.utils.check_https says
-- for this request, in its 0.x form (one argument) and its 1.x+ form.
local responses = require "kong.tools.responses"
local utils = require "kong.tools.utils"

local H = { PRIORITY = 1000, VERSION = "0.1.0" }

function H:access(conf)
  return responses.send_HTTP_OK({
    old_form = utils.check_https(true),
    old_form_strict = utils.check_https(false),
    new_form_untrusted = utils.check_https(false, true),
  })
end

return H
