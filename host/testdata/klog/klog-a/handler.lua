-- klog-a: logs through kong.log where Kong switches it (TestKongLogFollowsPlugin).
local at_load = kong.log -- read while the plugin loads: core's, as in Kong

local H = { PRIORITY = 20, VERSION = "1.0.0" }

function H:init_worker()
  kong.log.notice("a init_worker")
end

function H:access(conf)
  kong.log.notice("a access")
  at_load.notice("a at_load")
  assert(rawget(kong, "log") == kong.log, "kong.log is a field")
  assert(ngx.timer.at(0, function() kong.log.notice("a timer") end))
end

function H:log(conf)
  kong.log.notice("a log")
end

return H
