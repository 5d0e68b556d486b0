-- access-header: sets a response header in access only; the response is
-- the upstream's, the header must be put back on it.
local H = { PRIORITY = 600, VERSION = "1.0.0" }

function H:access(conf)
  kong.response.set_header("X-Access-Set", "yes")
end

return H
