-- label-key: a request's x-label-key must name a label_keys row; its label
-- goes upstream as x-key-label
local LabelKey = { PRIORITY = 1000, VERSION = "0.1.0" }

function LabelKey:access()
  local key = kong.request.get_header("x-label-key")
  if not key then
    return kong.response.exit(401, { message = "no key" })
  end
  local row, err = kong.db.label_keys:select_by_key(key)
  if err then
    return kong.response.exit(500, { message = err })
  end
  if not row then
    return kong.response.exit(401, { message = "unknown key" })
  end
  kong.service.request.set_header("x-key-label", row.label or "")
end

return LabelKey
