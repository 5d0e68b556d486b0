-- the log phase sends a small log, as http-log does: from a timer
-- (cosockets are not allowed in the log phase), a resty.http POST of JSON
-- to config.http_endpoint (config.serialize: kong.log.serialize's table)
local cjson = require "cjson"
local http = require "resty.http"

local PostLog = { PRIORITY = 12, VERSION = "0.1.0" }

local function send(premature, endpoint, body)
  if premature then return end
  local c = http.new()
  local res, err = c:request_uri(endpoint, {
    method = "POST",
    body = body,
    headers = { ["Content-Type"] = "application/json", ["X-Log-Sender"] = "post-log" },
  })
  if not res then
    kong.log.err("failed to send the log: ", err)
  end
end

function PostLog:log(conf)
  local body
  if conf.serialize then
    -- the whole of kong.log.serialize, as http-log sends it
    body = cjson.encode(kong.log.serialize())
  else
    body = cjson.encode({
      request = { method = kong.request.get_method(), uri = kong.request.get_path() },
      response = { status = kong.response.get_status() },
    })
  end
  assert(ngx.timer.at(0, send, conf.http_endpoint, body))
end

return PostLog
