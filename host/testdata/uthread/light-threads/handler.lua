-- light-threads: a plugin making its requests in ngx.thread light threads,
-- by the path's last segment (written for luahost's tests):
--   both     two threads each ask the echo server, access waits on both;
--   pending  a thread yields and asks after access returned: its answer
--            is in ngx.ctx by header_filter (the handler ends with its threads);
--   failed   a thread raises: wait returns false and the error;
--   exit     a thread calls ngx.exit(403): the whole handler ends.
local H = { PRIORITY = 7, VERSION = "1.0.0" }

local function ask(conf, what)
  local sock = ngx.socket.tcp()
  sock:settimeout(20000)
  assert(sock:connect(conf.host, conf.port))
  assert(sock:send(what .. "\n"))
  local line = assert(sock:receive())
  sock:close()
  return line
end

function H:access(conf)
  local what = ngx.var.uri:match("[^/]+$")
  if what == "both" then
    local a = ngx.thread.spawn(ask, conf, "a")
    local b = ngx.thread.spawn(ask, conf, "b")
    local ok1, ra = ngx.thread.wait(a)
    local ok2, rb = ngx.thread.wait(b)
    return kong.response.exit(200, tostring(ok1) .. " " .. ra .. ", " .. tostring(ok2) .. " " .. rb)
  elseif what == "pending" then
    ngx.thread.spawn(function()
      coroutine.yield()
      ngx.ctx.late = ask(conf, "late")
    end)
  elseif what == "failed" then
    local ok, err = ngx.thread.wait(ngx.thread.spawn(function() error("no answer") end))
    return kong.response.exit(200, tostring(ok) .. " " .. err)
  elseif what == "exit" then
    ngx.thread.wait(ngx.thread.spawn(function() ngx.exit(403) end))
    return kong.response.exit(200, "not reached")
  end
end

function H:header_filter()
  if ngx.ctx.late then
    kong.response.set_header("X-Late", ngx.ctx.late)
  end
end

return H
