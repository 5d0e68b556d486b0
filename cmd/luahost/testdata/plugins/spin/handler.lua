-- spin: an access handler that never returns, for lua_timeout to stop
-- (the deadline-stop metric's test).
local H = { PRIORITY = 1, VERSION = "1.0.0" }

function H:access(conf)
  while true do end
end

return H
