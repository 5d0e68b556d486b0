-- greeter: tells the upstream and the client who greets them
local Greeter = {
  PRIORITY = 900,
  VERSION = "1.0.0",
}

local function greeting(conf)
  local text = conf.greeting
  if kong.request.get_header("x-shout") then
    text = text:upper() .. "!"
  end
  return text
end

function Greeter:access(conf)
  kong.service.request.set_header(conf.upstream_header, greeting(conf))
end

function Greeter:header_filter(conf)
  kong.response.set_header(conf.client_header, conf.greeting)
end

return Greeter
