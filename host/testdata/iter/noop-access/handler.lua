-- noop-access: an access handler that does nothing, to measure what
-- running one plugin's access costs the request path (BenchmarkRequestCPU).
local H = { PRIORITY = 1, VERSION = "1.0.0" }

function H:access(conf) end

return H
