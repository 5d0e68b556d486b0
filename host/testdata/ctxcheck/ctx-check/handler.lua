-- ctx-check: a plugin that opens a cosocket where the path's last segment
-- says (written for luahost's tests):
--   access                    connects in access, sends "access\n";
--   timer                     a timer connects and sends "timer\n";
--   header_filter, body_filter, log
--                             calls ngx.socket.tcp() in that phase, which
--                             OpenResty refuses.
local H = { PRIORITY = 7, VERSION = "1.0.0" }

local function send(conf, line)
  local sock = ngx.socket.tcp()
  sock:settimeout(20000)
  assert(sock:connect(conf.host, conf.port))
  ngx.sleep(0)
  assert(sock:send(line .. "\n"))
  sock:close()
end

local function where()
  return ngx.var.uri:match("[^/]+$")
end

function H:access(conf)
  local what = where()
  if what == "access" then
    send(conf, "access")
    return kong.response.exit(200, what)
  elseif what == "timer" then
    assert(ngx.timer.at(0, function(premature, c) send(c, "timer") end, conf))
    return kong.response.exit(200, what)
  end
end

local function refused(phase)
  return function(_, conf)
    if where() == phase then
      local sock = ngx.socket.tcp()
      sock:connect(conf.host, conf.port)
    end
  end
end

H.header_filter = refused("header_filter")
H.body_filter = refused("body_filter")
H.log = refused("log")

return H
