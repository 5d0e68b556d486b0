-- GET /hold starts two timers, due in 0.2 s, that run until GET
-- /release: one named through kong.timer:named_at, one by ngx.timer.at
-- (named after its call site); both requests answer 200 without proxying
local TimerStart = { PRIORITY = 1000, VERSION = "0.1.0" }

local RELEASE = "timer-start-release"

local function hold(premature)
  if premature then return end
  while not ngx.shared.kong:get(RELEASE) do
    ngx.sleep(0.01)
  end
end

function TimerStart:access()
  local path = kong.request.get_path()
  if path == "/hold" then
    ngx.shared.kong:delete(RELEASE)
    assert(kong.timer:named_at("timer-start-held", 0.2, hold))
    assert(ngx.timer.at(0.2, hold))
  elseif path == "/release" then
    ngx.shared.kong:set(RELEASE, true)
  end
  return kong.response.exit(200, { path = path })
end

return TimerStart
