-- legacy-responses: answers in access through 0.x's kong.tools.responses,
-- as its config says (helper = "send" or a send_HTTP_* name), and records
-- in ngx.shared.kong "after" when code after the call ran.
local responses = require "kong.tools.responses"

local H = { PRIORITY = 1000, VERSION = "0.1.0" }

function H:access(conf)
  local body = conf.message
  if conf.table_body then
    body = { message = conf.message, extra = "x" }
  end
  if conf.helper == "send" then
    responses.send(conf.status, body, { ["X-Legacy"] = "yes" })
  else
    responses[conf.helper](body, conf.content_type and { ["content-type"] = conf.content_type } or nil)
  end
  ngx.shared.kong:set("after", "ran")
end

return H
