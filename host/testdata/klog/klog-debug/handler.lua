-- klog-debug: kong.log.debug a hundred times, filtered out at the default
-- log level (TestKongLogFilteredAllocs compares it with klog-quiet).
local H = { PRIORITY = 1, VERSION = "1.0.0" }

function H:access(conf)
  for _ = 1, 100 do
    kong.log.debug("x")
  end
end

return H
