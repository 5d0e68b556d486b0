-- spec.internal.db (Kong 3.x): these functions of spec.helpers
local helpers = require "spec.helpers"
return {
  get_db_utils = helpers.get_db_utils,
  each_strategy = helpers.each_strategy,
  all_strategies = helpers.all_strategies,
  for_each_dao = helpers.for_each_dao,
  validate_plugin_config_schema = helpers.validate_plugin_config_schema,
}
