-- kong.db.schema: stands in for Kong's kong/db/schema/init.lua.
--
-- Covers what plugins and their specs use: Schema.new(definition) returning
-- a schema object (the definition, fields also indexed by name) with
-- validate(input, full_check), validate_insert, validate_update,
-- validate_upsert, validate_primary_key, validate_field,
-- validate_immutable_fields, process_auto_fields(data, context, nulls),
-- each_field(values), extract_pk_values, errors_to_string, merge_values,
-- transform and new_subschema; and Schema.define (callable typedefs). The
-- work is done in Go by luahost's schema engine (module luahost.schema).

local core = require "luahost.schema"

local Schema = {}
Schema.__index = Schema

for name, method in pairs(core.methods) do
  Schema[name] = method
end

Schema.valid_types = {
  array = true, set = true, string = true, number = true, boolean = true,
  integer = true, foreign = true, map = true, record = true,
  ["function"] = true, json = true,
}

--- Schema.validators: the validator functions plugins call directly
-- (cors's schema reads is_regex). Validation itself runs in the Go engine;
-- this table only serves direct calls. Covers: is_regex(value) -> true
-- when value compiles as an ngx.re regex, false otherwise.
Schema.validators = {
  is_regex = function(value)
    local _, err = ngx.re.match("any string", value)
    return err == nil
  end,
}

--- Schema.new(definition, is_subschema): the schema object, or nil and
-- an error message ("expected a definition table", "error in schema
-- definition: no 'fields' table", "schema refers to an invalid foreign
-- entity: <name>", ...).
function Schema.new(definition, is_subschema)
  return core.new(definition, false, is_subschema)
end

--- Schema.define(tbl): makes a typedef callable. `typedef { k = v }`
-- returns its own argument table, completed with every key of the typedef
-- it did not set (a shallow fill: nested tables are shared).
function Schema.define(tbl)
  return setmetatable(tbl, {
    __call = function(t, arg)
      arg = arg or {}
      for k, v in pairs(t) do
        if arg[k] == nil then
          arg[k] = v
        end
      end
      return arg
    end,
  })
end

return Schema
