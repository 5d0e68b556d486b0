-- sets a request header for the upstream and a response header for the client
local AddHeader = { PRIORITY = 1000, VERSION = "0.1.0" }

function AddHeader:access(conf)
  kong.log.notice("add-header access for ", kong.request.get_host())
  kong.service.request.set_header(conf.request_header, "this is on a request")
end

function AddHeader:header_filter(conf)
  kong.response.set_header(conf.response_header, "this is on the response")
end

-- X-Late-Log: a line logged by a timer after the request, for the
-- log assertions that must keep watching the file
function AddHeader:log(conf)
  local late = kong.request.get_header("X-Late-Log")
  if late then
    ngx.timer.at(0.2, function() ngx.log(ngx.NOTICE, "late line: ", late) end)
  end
end

return AddHeader
