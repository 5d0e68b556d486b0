-- ws-buffer: a response handler (Kong then buffers the response, except
-- for an upgrade), noted in ngx.shared.kong's "ws-trace" as ws-probe does.
local H = { PRIORITY = 900, VERSION = "1.0.0" }

function H:response(conf)
  local dict = ngx.shared.kong
  local cur = dict:get("ws-trace")
  dict:set("ws-trace", cur and (cur .. " response") or "response")
end

return H
