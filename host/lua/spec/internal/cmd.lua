-- spec.internal.cmd (Kong 3.x): these functions of spec.helpers
local helpers = require "spec.helpers"
return {
  start_kong = helpers.start_kong,
  stop_kong = helpers.stop_kong,
  restart_kong = helpers.restart_kong,
  kong_exec = helpers.kong_exec,
  prepare_prefix = helpers.prepare_prefix,
  clean_prefix = helpers.clean_prefix,
  get_running_conf = helpers.get_running_conf,
  clean_logfile = helpers.clean_logfile,
  kill_all = helpers.kill_all,
  signal = helpers.signal,
  signal_workers = helpers.signal_workers,
}
