-- sock-leak: a plugin that forgets to close its cosockets (written for
-- luahost's tests). The path's last segment picks what access does:
--   leak    connects, sends "leak\n" and leaves the socket open;
--   timer   a timer does the same;
--   pooled  connects in pool "one" (pool_size 1, backlog 1), leaves it open;
--   keep    connects and keeps the socket in a module-level table;
--   reuse   uses the socket kept by an earlier request.
local H = { PRIORITY = 7, VERSION = "1.0.0" }

local kept = {}

local function open(conf, opts)
  local sock = ngx.socket.tcp()
  sock:settimeout(20000)
  local ok, err = sock:connect(conf.host, conf.port, opts)
  if not ok then
    return nil, err
  end
  return sock
end

local function leak(premature, conf)
  local sock = assert(open(conf))
  assert(sock:send("timer\n"))
end

function H:access(conf)
  local what = ngx.var.uri:match("[^/]+$")
  if what == "leak" then
    local sock = assert(open(conf))
    assert(sock:send("leak\n"))
  elseif what == "timer" then
    assert(ngx.timer.at(0, leak, conf))
  elseif what == "pooled" then
    local sock, err = open(conf, { pool = "one", pool_size = 1, backlog = 1 })
    if not sock then
      return kong.response.exit(200, "connect: " .. err)
    end
    assert(sock:send("pooled\n"))
  elseif what == "keep" then
    kept.sock = assert(open(conf))
    assert(kept.sock:send("keep\n"))
  elseif what == "reuse" then
    local sock = kept.sock
    local out = {}
    local ok, err = sock:send("again\n")
    out[#out + 1] = "send: " .. tostring(ok) .. " " .. tostring(err)
    ok, err = sock:receive()
    out[#out + 1] = "receive: " .. tostring(ok) .. " " .. tostring(err)
    ok, err = sock:close()
    out[#out + 1] = "close: " .. tostring(ok) .. " " .. tostring(err)
    ok, err = pcall(sock.connect, sock, conf.host, conf.port)
    out[#out + 1] = "connect: " .. tostring(ok) .. " " .. tostring(err)
    return kong.response.exit(200, table.concat(out, "|"))
  end
  return kong.response.exit(200, what)
end

return H
