local PartKey = {
  PRIORITY = 1000,
  VERSION = "1.0.0",
}

local function load_items(consumer_id)
  return kong.db.partkey_items:page_for_consumer({ id = consumer_id })
end

function PartKey:access(conf)
  local consumer = kong.client.get_consumer()
  local key = kong.db.partkey_items:cache_key(consumer.id)
  local items = kong.cache:get(key, nil, load_items, consumer.id)
  kong.ctx.plugin.items = items
end

return PartKey
