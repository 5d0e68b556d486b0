local trace = require "kong.plugins.trace-a.trace"

local H = trace.handler("trace-a", 1000)

-- configure(configs): Kong calls it with every enabled configuration of the
-- plugin (nil for none) each time the iterator is built.
function H:configure(configs)
  local dict = ngx.shared.kong
  local tags = {}
  for i, c in ipairs(configs or {}) do
    if c.tag == "configure-fails" then
      error("configure failed on purpose")
    end
    tags[i] = tostring(c.tag) .. "/" .. tostring(c.__key__ ~= nil) .. "/" .. tostring(c.__seq__ ~= nil)
  end
  table.sort(tags)
  dict:set("configure:" .. ngx.worker.id(), configs and table.concat(tags, ",") or "nil")
  dict:incr("configure:calls", 1, 0)
end

return H
