-- luahost shim for Kong's `kong.tools.time` (Kong 3.7+, also re-exported
-- by kong.tools.utils). Covers all of it: time_ns, get_updated_now,
-- get_now_ms, get_updated_now_ms, get_start_time_ms,
-- get_updated_monotonic_ms, nginx_conf_time_to_seconds. Kong reads
-- clock_gettime and nginx's time cache through FFI; here Go's clock
-- answers (ngx.update_time has nothing to refresh: every ngx.now reads the
-- clock), and the monotonic milliseconds count from the process's start.

local native = require "luahost.native"

local _M = {}

function _M.nginx_conf_time_to_seconds(s)
  local n = native.parse_time(s)
  if not n then
    error("bad argument #1 'str'", 2)
  end
  return n
end

-- nanoseconds of the wall clock (a double, as Kong's)
function _M.time_ns()
  return native.now_ns()
end

-- seconds with millisecond resolution, as ngx.now
function _M.get_updated_now()
  ngx.update_time()
  return ngx.now()
end

function _M.get_now_ms()
  return ngx.now() * 1000
end

function _M.get_updated_now_ms()
  ngx.update_time()
  return ngx.now() * 1000
end

-- the current request's start (ngx.req.start_time), in ms
function _M.get_start_time_ms()
  return ngx.req.start_time() * 1000
end

function _M.get_updated_monotonic_ms()
  ngx.update_time()
  return native.monotonic_ms()
end

return _M
