-- answers 401 unless the request has an apikey header (key-auth's shape)
local NeedKey = { PRIORITY = 1250, VERSION = "0.1.0" }

function NeedKey:access()
  if not kong.request.get_header("apikey") then
    return kong.response.exit(401, { message = "No API key found in request" })
  end
end

return NeedKey
