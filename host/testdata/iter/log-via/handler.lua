-- log-via: notes in log what the client's request looked like (the Via
-- header is the proxy's, added for the upstream only).
local H = { PRIORITY = 590, VERSION = "1.0.0" }

function H:log(conf)
  ngx.shared.kong:set("log-saw-via", tostring(kong.request.get_header("via")))
end

return H
