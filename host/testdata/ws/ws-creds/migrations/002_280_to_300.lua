-- A config fixup as http-log's 280_to_300 migration writes it.
local operations = require "kong.db.migrations.operations.280_to_300"

local function rename_timeout(config)
  if config.old_timeout == nil then
    return false
  end
  config.timeout = config.old_timeout
  config.old_timeout = nil
  return true
end

return {
  postgres = {
    up = "",
    teardown = function(connector)
      local _, err = operations.postgres.teardown:fixup_plugin_config(connector, "ws-creds", rename_timeout)
      if err then
        return nil, err
      end
      return true
    end,
  },
}
