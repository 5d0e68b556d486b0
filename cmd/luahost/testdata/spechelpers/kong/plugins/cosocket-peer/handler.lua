-- connects an ngx.socket.tcp (or udp) to its configured host and port and
-- sends a line; answers the request with the line a tcp peer echoed, or
-- the connect's (setpeername's) error
local CosocketPeer = { PRIORITY = 1000, VERSION = "0.1.0" }

function CosocketPeer:access(conf)
  local sock, ok, err
  if conf.udp then
    sock = ngx.socket.udp()
    ok, err = sock:setpeername(conf.host, conf.port)
  else
    sock = ngx.socket.tcp()
    sock:settimeout(10000)
    ok, err = sock:connect(conf.host, conf.port)
  end
  if not ok then
    return kong.response.exit(502, { error = err })
  end
  assert(sock:send("hello from " .. conf.host .. "\n"))
  local echoed
  if not conf.udp then
    echoed = sock:receive()
  end
  sock:close()
  return kong.response.exit(200, { echoed = echoed })
end

return CosocketPeer
