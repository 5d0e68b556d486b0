-- klog-b: runs after klog-a on the same request (TestKongLogFollowsPlugin).
local H = { PRIORITY = 10, VERSION = "1.0.0" }

function H:access(conf)
  kong.log.notice("b access")
end

return H
