-- Shared by the iterator's test plugins: appends "<plugin>:<phase>:<tag>"
-- to the "trace" key of ngx.shared.kong, one entry per handler call.
local M = {}

function M.add(name, phase, conf)
  local dict = ngx.shared.kong
  local cur = dict:get("trace")
  local item = name .. ":" .. phase .. ":" .. tostring(conf and conf.tag)
  dict:set("trace", cur and (cur .. " " .. item) or item)
end

-- a handler recording every request phase
function M.handler(name, priority)
  local H = { PRIORITY = priority, VERSION = "1.0.0" }
  for _, phase in ipairs({ "rewrite", "access", "header_filter", "body_filter", "log" }) do
    H[phase] = function(self, conf)
      M.add(name, phase, conf)
      if phase == "access" and conf.fail then
        error("failing on purpose")
      end
      if phase == "access" and conf.spin then
        while true do end
      end
      if phase == "access" and conf.tag == "fields" then
        -- the fields Kong adds to a configuration
        local f = {}
        for _, k in ipairs({ "route_id", "service_id", "consumer_id", "__plugin_id", "__key__", "__ws_id" }) do
          f[#f + 1] = k .. "=" .. tostring(conf[k])
        end
        f[#f + 1] = "__seq__=" .. type(conf.__seq__)
        f[#f + 1] = "plugin_id=" .. tostring(ngx.ctx.plugin_id)
        ngx.shared.kong:set("fields", table.concat(f, " "))
      end
    end
  end
  return H
end

return M
