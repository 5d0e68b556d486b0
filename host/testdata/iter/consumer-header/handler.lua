-- consumer-header: tells the upstream who the request was authenticated
-- as (runs after the auth plugins: lower PRIORITY).
local H = { PRIORITY = 900, VERSION = "1.0.0" }

function H:access(conf)
  local consumer = kong.client.get_consumer()
  kong.service.request.set_header(conf.header_name, consumer and consumer.username or "anonymous")
end

return H
