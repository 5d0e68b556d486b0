local HandKey = {
  PRIORITY = 1000,
  VERSION = "1.0.0",
}

local function load_item(name)
  return kong.db.handkey_items:select_by_name(name)
end

function HandKey:access(conf)
  local name = kong.request.get_header("x-item")
  local item, err = kong.cache:get("handkey_items:" .. name, nil, load_item, name)
  if err then
    return kong.response.exit(500)
  end
  kong.ctx.plugin.item = item
end

return HandKey
