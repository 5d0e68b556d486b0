-- Written exactly as Kong's bundled plugins write their 2.1 migration.
local operations = require "kong.db.migrations.operations.200_to_210"

local plugin_entities = {
  {
    name = "ws_creds",
    primary_key = "id",
    uniques = { "key" },
    cache_key = { "consumer", "key" },
    fks = { { name = "consumer", reference = "consumers", on_delete = "cascade" } },
  },
}

local function ws_migration_up(ops)
  return ops:ws_adjust_fields(plugin_entities)
end

local function ws_migration_teardown(ops)
  return function(connector)
    return ops:ws_adjust_data(connector, plugin_entities)
  end
end

return {
  postgres = {
    up = ws_migration_up(operations.postgres.up),
    teardown = ws_migration_teardown(operations.postgres.teardown),
  },
  cassandra = {
    up = ws_migration_up(operations.cassandra.up),
    teardown = ws_migration_teardown(operations.cassandra.teardown),
  },
}
