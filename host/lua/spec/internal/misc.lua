-- spec.internal.misc (Kong 3.x): these functions of spec.helpers
local helpers = require "spec.helpers"
return {
  unindent = helpers.unindent,
  make_yaml_file = helpers.make_yaml_file,
  deep_sort = helpers.deep_sort,
  setenv = helpers.setenv,
  unsetenv = helpers.unsetenv,
  get_version = helpers.get_version,
  get_available_port = helpers.get_available_port,
  generate_keys = helpers.generate_keys,
  make_temp_dir = helpers.make_temp_dir,
}
