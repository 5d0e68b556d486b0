-- spec.internal.wait (Kong 3.x): these functions of spec.helpers
local helpers = require "spec.helpers"
return {
  wait_until = helpers.wait_until,
  pwait_until = helpers.pwait_until,
  wait_for_all_config_update = helpers.wait_for_all_config_update,
  wait_for_invalidation = helpers.wait_for_invalidation,
  wait_timer = helpers.wait_timer,
  wait_for_file = helpers.wait_for_file,
  wait_for_file_contents = helpers.wait_for_file_contents,
  get_kong_workers = helpers.get_kong_workers,
  reload_kong = helpers.reload_kong,
}
