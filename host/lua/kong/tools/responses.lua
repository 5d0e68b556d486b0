-- luahost shim for Kong's `kong.tools.responses` (Kong 0.5 - 0.14, removed
-- in 1.0 for kong.response.exit). Covers: status_codes, send(status, body,
-- headers) and the send_HTTP_<NAME>(body, headers) helpers of 0.10 (OK,
-- CREATED, NO_CONTENT, BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND,
-- METHOD_NOT_ALLOWED, CONFLICT, UNSUPPORTED_MEDIA_TYPE,
-- INTERNAL_SERVER_ERROR, SERVICE_UNAVAILABLE).
--
-- As in 0.x a response is JSON: a table body is encoded as is, any other
-- body becomes {"message": body}, followed by a newline (0.x wrote it with
-- ngx.say); Content-Type is "application/json; charset=utf-8" and Server
-- "kong/<version>", both overridable by headers. 204 never has a body, 500
-- always says "An unexpected error occurred" (the given body is logged at
-- ERR), 405 always "Method not allowed"; 401, 404 and 503 have defaults.
-- The request ends through kong.response.exit, in a plugin's phase as on
-- the Admin API, so code after the call does not run.

local cjson = require "cjson.safe"
local meta = require "kong.meta"

local server_header = meta._NAME .. "/" .. meta._VERSION

local _M = {
  status_codes = {
    HTTP_OK = 200,
    HTTP_CREATED = 201,
    HTTP_NO_CONTENT = 204,
    HTTP_BAD_REQUEST = 400,
    HTTP_UNAUTHORIZED = 401,
    HTTP_FORBIDDEN = 403,
    HTTP_NOT_FOUND = 404,
    HTTP_METHOD_NOT_ALLOWED = 405,
    HTTP_CONFLICT = 409,
    HTTP_UNSUPPORTED_MEDIA_TYPE = 415,
    HTTP_INTERNAL_SERVER_ERROR = 500,
    HTTP_SERVICE_UNAVAILABLE = 503,
  },
}

-- body_for[status](body) is the body 0.x sent for those statuses.
local body_for = {
  [204] = function() return nil end,
  [401] = function(b) return b or "Unauthorized" end,
  [404] = function(b) return b or "Not found" end,
  [405] = function() return "Method not allowed" end,
  [500] = function() return "An unexpected error occurred" end,
  [503] = function(b) return b or "Service unavailable" end,
}

local function respond(status, content, headers)
  if status == 500 and content then
    ngx.log(ngx.ERR, tostring(content))
  end

  local out = {
    ["Content-Type"] = "application/json; charset=utf-8",
    ["Server"] = server_header,
  }
  if headers then
    for k, v in pairs(headers) do
      if type(k) == "string" then
        local lk = k:lower()
        for d in pairs(out) do
          if d ~= k and d:lower() == lk then
            out[d] = nil
          end
        end
      end
      out[k] = v
    end
  end

  local f = body_for[status]
  if f then
    content = f(content)
  end

  local body
  if content then
    local encoded, err = cjson.encode(type(content) == "table" and content or { message = content })
    if encoded then
      body = encoded .. "\n"
    else
      ngx.log(ngx.ERR, "[admin] could not encode value: ", err)
      body = "\n"
    end
  end

  return kong.response.exit(status, body, out)
end

for name, status in pairs(_M.status_codes) do
  _M["send_" .. name] = function(content, headers)
    return respond(status, content, headers)
  end
end

-- send(status, body, headers): any status.
function _M.send(status, body, headers)
  return respond(status, body, headers)
end

return _M
