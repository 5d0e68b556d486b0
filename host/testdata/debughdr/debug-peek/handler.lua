-- looks at Kong's debug headers: sets its own Kong-Route-Name in access
-- (conf.route_name), answers 401 there (conf.exit), and copies the
-- response's Kong-Route-Id as header_filter sees it into X-Seen-Route-Id
local DebugPeek = { PRIORITY = 1000, VERSION = "0.1.0" }

function DebugPeek:access(conf)
  if conf.route_name then
    kong.response.set_header("Kong-Route-Name", conf.route_name)
  end
  if conf.exit then
    return kong.response.exit(401, { message = "no" })
  end
end

function DebugPeek:header_filter()
  kong.response.set_header("X-Seen-Route-Id", kong.response.get_header("Kong-Route-Id") or "none")
end

return DebugPeek
