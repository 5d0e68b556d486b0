-- noop: handlers that do nothing, to measure what running a plugin costs
-- the request path (BenchmarkRequestPath).
local H = { PRIORITY = 1, VERSION = "1.0.0" }

function H:access(conf) end

function H:header_filter(conf) end

function H:log(conf) end

return H
