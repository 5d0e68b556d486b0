-- exit-rewrite: a global plugin answering in rewrite when asked to, so
-- that access never runs; it records its phases in ngx.shared.kong's
-- "trace" as the iterator's trace plugins do.
local trace = require "kong.plugins.trace-a.trace"

local H = { PRIORITY = 3000, VERSION = "1.0.0" }

function H:rewrite(conf)
  trace.add("exit-rewrite", "rewrite", conf)
  if kong.request.get_header(conf.header_name) then
    return kong.response.exit(418, { message = "answered in rewrite" })
  end
end

function H:access(conf)
  trace.add("exit-rewrite", "access", conf)
end

function H:header_filter(conf)
  trace.add("exit-rewrite", "header_filter", conf)
end

function H:log(conf)
  trace.add("exit-rewrite", "log", conf)
end

return H
