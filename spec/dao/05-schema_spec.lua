-- Schema objects: dao.schema, and kong.db.schema / kong.db.schema.entity
-- as plugin specs use them (Schema.new(def), s:validate(x) returning
-- Kong's error tables).
local Schema = require "kong.db.schema"
local Entity = require "kong.db.schema.entity"

describe("dao.schema", function()
  local s = kong.db.keyauth_credentials.schema

  it("has name, primary_key, cache_key, endpoint_key", function()
    assert.equal("keyauth_credentials", s.name)
    assert.same({ "id" }, s.primary_key)
    assert.same({ "key" }, s.cache_key)
    assert.equal("key", s.endpoint_key)
    assert.is_nil(s.ttl)
    assert.is_true(kong.db.dbfix_groups.schema.ttl)
  end)

  it("has fields as an array of one-key tables and by name", function()
    assert.equal(4, #s.fields)
    assert.equal("foreign", s.fields[3].consumer.type)
    assert.equal(s.fields[3].consumer, s.fields.consumer)
    assert.equal("consumers", s.fields.consumer.reference)
    assert.equal("cascade", s.fields.consumer.on_delete)
    assert.is_true(s.fields.key.unique)
  end)

  it("iterates fields in order with each_field", function()
    local names = {}
    for name, field in s:each_field() do
      names[#names + 1] = name .. "=" .. field.type
    end
    assert.same({ "id=string", "created_at=integer", "consumer=foreign", "key=string" }, names)
  end)

  it("validates", function()
    assert.is_true(s:validate({ key = "x" }, false))
    local ok, errs = s:validate({ key = 1, consumer = { id = "nope" } })
    assert.is_nil(ok)
    assert.same({ key = "expected a string", consumer = { id = "expected a valid UUID" } }, errs)
  end)
end)

describe("kong.db.schema", function()
  local def = {
    name = "things",
    primary_key = { "id" },
    fields = {
      { id = { type = "string", uuid = true, auto = true } },
      { name = { type = "string", required = true, len_min = 3 } },
      { port = { type = "integer", between = { 1, 65535 }, default = 80 } },
      { protocol = { type = "string", one_of = { "http", "https" }, default = "http" } },
      { cfg = { type = "record", fields = { { timeout = { type = "number", gt = 0 } } } } },
    },
    entity_checks = {
      { at_least_one_of = { "name", "port" } },
    },
  }

  it("Schema.new returns an object with validate", function()
    local s = assert(Schema.new(def))
    assert.is_true(s:validate({ name = "abc" }))
    local ok, errs = s:validate({ name = "ab", port = 0, protocol = "ftp", cfg = { timeout = 0 } })
    assert.is_nil(ok)
    assert.same({
      name = "length must be at least 3",
      port = "value should be between 1 and 65535",
      protocol = "expected one of: http, https",
      cfg = { timeout = "value must be greater than 0" },
    }, errs)
  end)

  it("validate without full_check skips missing required fields", function()
    local s = assert(Schema.new(def))
    assert.is_true(s:validate({ port = 8000 }, false))
    local ok, errs = s:validate({ port = 8000 })
    assert.is_nil(ok)
    assert.equal("required field missing", errs.name)
  end)

  it("validate_insert and validate_update", function()
    local s = assert(Schema.new(def))
    assert.is_nil((s:validate_insert({ port = 1 })))
    assert.is_true(s:validate_update({ port = 1 }))
  end)

  it("process_auto_fields fills defaults and auto values", function()
    local s = assert(Schema.new(def))
    local data = assert(s:process_auto_fields({ name = "abc" }, "insert"))
    assert.equal(80, data.port)
    assert.equal("http", data.protocol)
    assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", data.id)
  end)

  it("keeps the definition, fields also by name", function()
    local s = assert(Schema.new(def))
    assert.equal("things", s.name)
    assert.equal(3, s.fields.name.len_min)
    assert.equal(s.fields[2].name, s.fields.name)
    assert.is_nil(def.fields.name) -- the definition itself is not modified
  end)

  it("runs custom validators written in Lua", function()
    local s = assert(Schema.new({
      name = "custom",
      fields = {
        { word = { type = "string", custom_validator = function(v)
            if v ~= v:lower() then return nil, "must be lower case" end
            return true
          end } },
      },
    }))
    assert.is_true(s:validate({ word = "abc" }))
    local _, errs = s:validate({ word = "ABC" })
    assert.equal("must be lower case", errs.word)
  end)

  it("returns Kong's errors on bad definitions", function()
    local s, err = Schema.new("x")
    assert.is_nil(s)
    assert.equal("expected a definition table", err)
    s, err = Schema.new({ name = "nofields" })
    assert.is_nil(s)
    assert.equal("error in schema definition: no 'fields' table", err)
    s, err = Schema.new({ name = "badref", fields = { { x = { type = "foreign", reference = "nowhere" } } } })
    assert.is_nil(s)
    assert.equal("schema refers to an invalid foreign entity: nowhere", err)
  end)

  it("Schema.define makes a callable typedef that fills the call's table", function()
    local port = Schema.define({ type = "integer", between = { 0, 65535 } })
    local arg = { default = 80 }
    local f = port(arg)
    assert.equal(arg, f)
    assert.equal("integer", f.type)
    assert.equal(80, f.default)
    assert.equal(port.between, f.between) -- shallow: nested tables are shared
    assert.equal("integer", port().type)
  end)
end)

describe("kong.db.schema.entity", function()
  it("Entity.new refuses nilable and function fields and non-string map keys", function()
    local s, err = Entity.new({ name = "e", fields = { { f = { type = "string", nilable = true } } } })
    assert.is_nil(s)
    assert.equal("f: Entities cannot have nilable types.", err)
    s, err = Entity.new({ name = "e", fields = { { f = { type = "map", keys = { type = "integer" },
                                                            values = { type = "string" } } } } })
    assert.is_nil(s)
    assert.equal("f: Entities map keys must be strings.", err)
  end)

  it("Entity.new makes records required", function()
    local s = assert(Entity.new({ name = "e", primary_key = { "id" }, fields = {
      { id = { type = "string" } },
      { r = { type = "record", fields = { { a = { type = "string", default = "x" } } } } },
    } }))
    local _, errs = s:validate({ id = "1", r = ngx.null })
    assert.equal("required field missing", errs.r)
    assert.equal("x", s:process_auto_fields({ id = "1" }, "insert").r.a)
  end)
end)

describe("plugin config schemas", function()
  local core = require "luahost.schema"
  local def = {
    name = "my-plugin",
    fields = {
      { consumer = { type = "foreign", reference = "consumers", eq = ngx.null } },
      { config = {
          type = "record",
          fields = {
            { key_names = { type = "array", elements = { type = "string" }, default = { "apikey" } } },
            { limit = { type = "integer", gt = 0 } },
          },
        },
      },
    },
  }

  it("validate_plugin_config_schema returns the processed plugin entity", function()
    local entity = assert(core.validate_plugin_config_schema({ limit = 5 }, def))
    assert.equal("my-plugin", entity.name)
    assert.same({ "apikey" }, entity.config.key_names)
    assert.equal(5, entity.config.limit)
    assert.is_true(entity.enabled)
  end)

  it("validate_plugin_config_schema returns Kong's error table", function()
    local entity, errs = core.validate_plugin_config_schema({ limit = 0 }, def)
    assert.is_nil(entity)
    assert.same({ config = { limit = "value must be greater than 0" } }, errs)
  end)

  it("a plugin cannot be scoped to a consumer when its schema says no_consumer", function()
    local entity, errs = core.validate_plugin_config_schema({}, def,
                                                            { consumer = { id = "6b1e3dfc-5b8f-4e9f-9d4b-3f8a2f3e9d11" } })
    assert.is_nil(entity)
    assert.equal("value must be null", errs.consumer)
  end)

  it("kong.db.plugins.schema.subschemas has the enabled plugins' config schemas", function()
    local sub = kong.db.plugins.schema.subschemas["dao-fixtures"]
    assert.is_table(sub)
    assert.equal("record", sub.fields.config.type)
    assert.is_false(sub.fields.config.fields.hide_credentials.default)
  end)

  it("kong.db.plugins.schema iterates the plugin's own fields with each_field(values)", function()
    local s = kong.db.plugins.schema
    local config
    for name, field in s:each_field({ name = "dao-fixtures" }) do
      if name == "config" then config = field end
    end
    assert.is_table(config)
    assert.equal("record", config.type)
    assert.equal("apikey", config.fields.key_names.default[1])
  end)
end)
