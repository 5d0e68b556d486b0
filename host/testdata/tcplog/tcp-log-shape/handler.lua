-- tcp-log-shape: what Kong's bundled tcp-log does, written for this test:
-- in the log phase, a timer sends the serialized request as one JSON line
-- over ngx.socket.tcp, reusing the connection from the pool (TLS only on a
-- fresh one), and gives it back with setkeepalive.
local cjson = require "cjson"

local H = { PRIORITY = 7, VERSION = "1.0.0" }

local function send(premature, conf, entry)
  if premature then
    return
  end
  local sock = ngx.socket.tcp()
  sock:settimeout(conf.timeout)
  local ok, err = sock:connect(conf.host, conf.port)
  if not ok then
    kong.log.err("connect to ", conf.host, ":", conf.port, ": ", err)
    return
  end
  local reused = assert(sock:getreusedtimes())
  if conf.tls and reused == 0 then
    ok, err = sock:sslhandshake(false, conf.tls_sni, false)
    if not ok then
      kong.log.err("TLS handshake: ", err)
      sock:close()
      return
    end
  end
  entry.reused = reused
  ok, err = sock:send(cjson.encode(entry) .. "\n")
  if not ok then
    kong.log.err("send: ", err)
  end
  ok, err = sock:setkeepalive(conf.keepalive)
  if not ok then
    kong.log.err("setkeepalive: ", err)
    sock:close()
  end
end

function H:log(conf)
  local entry = kong.log.serialize()
  local ok, err = ngx.timer.at(0, send, conf, entry)
  if not ok then
    kong.log.err("failed to create timer: ", err)
  end
end

return H
