-- chatty: logs in every phase it has, through kong.log, ngx.log and
-- kong.log.inspect, then fails in log (the request-id-on-every-line
-- test: each of those lines must carry the request's id).
local H = { PRIORITY = 1, VERSION = "1.0.0" }

function H:access(conf)
  kong.log.warn("chatty access ", kong.request.get_path())
  ngx.log(ngx.ERR, "chatty ngx.log in access")
  kong.log.inspect("chatty inspect", { phase = "access" })
end

function H:header_filter(conf)
  kong.log.err("chatty header_filter ", kong.response.get_status())
end

function H:log(conf)
  kong.log.notice("chatty log")
  error("chatty fails in log")
end

return H
