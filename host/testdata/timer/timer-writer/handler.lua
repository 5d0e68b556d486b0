-- Sets timers that write to ngx.shared.kong: what they see (phase,
-- premature, their arguments, a fresh ngx.ctx) is what the host test checks.
local TimerWriter = {
  PRIORITY = 7,
  VERSION = "0.1.0",
}

local function write(premature, key, from_ctx)
  local seen = table.concat({ ngx.get_phase(), tostring(premature), tostring(ngx.ctx.from_request),
    tostring(from_ctx), tostring(ngx.worker.id()) }, "|")
  assert(ngx.shared.kong:set(key, seen))
end

function TimerWriter:init_worker()
  local ok, err = ngx.timer.at(0.05, write, "timer:init_worker:" .. ngx.worker.id(), "init")
  if not ok then
    kong.log.err("failed to create the timer: ", err)
  end
end

function TimerWriter:access(conf)
  ngx.ctx.from_request = "request ctx"
  local ok, err = ngx.timer.at(0, write, "timer:" .. conf.tag, ngx.ctx.from_request)
  if not ok then
    return kong.response.exit(500, { message = err })
  end
end

return TimerWriter
