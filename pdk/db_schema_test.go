package pdk

import (
	"strings"
	"testing"
)

func TestSchemaNewFromLua(t *testing.T) {
	in, _ := newDBState(t)
	wantResults(t, in, `
		local core = require "luahost.schema"
		local s = assert(core.new({
			name = "things",
			primary_key = { "id" },
			fields = {
				{ id = { type = "string", uuid = true, auto = true } },
				{ name = { type = "string", required = true, len_min = 3 } },
				{ port = { type = "integer", between = { 1, 65535 }, default = 80 } },
				{ cfg = { type = "record", fields = { { a = { type = "integer" } } } } },
				{ kind = { type = "string", one_of = { "a", "b" },
				           custom_validator = function(v) if v == "b" then return nil, "b is taboo" end return true end } },
			},
		}))
		local ok, errs = s:validate({ name = "ab", port = 0, cfg = { a = 1.5 }, kind = "c" })
		local ok2, errs2 = s:validate({ name = "abc", kind = "b" })
		local ok3 = s:validate({ name = "abcd" })
		local ok4, errs4 = s:validate({ port = 8000 }, false)
		local ok5, errs5 = s:validate({})
		local d = s:process_auto_fields({ name = "x" }, "insert")
		return ok, errs.name, errs.port, errs.cfg.a, errs.kind, ok2, errs2.kind, ok3, ok4, errs4, ok5, errs5.name,
		       d.port, #d.id, s.fields.name.len_min, s.fields[2].name.required, s.name
	`, "nil", "length must be at least 3", "value should be between 1 and 65535", "expected an integer",
		"expected one of: a, b", "nil", "b is taboo", "true", "true", "nil", "nil", "required field missing",
		"80", "36", "3", "true", "things")
}

func TestSchemaNewErrors(t *testing.T) {
	in, _ := newDBState(t)
	wantResults(t, in, `
		local core = require "luahost.schema"
		local a, aerr = core.new("x")
		local b, berr = core.new({ name = "x" })
		local c, cerr = core.new({ name = "x", fields = { { f = { type = "foreign", reference = "nope" } } } })
		local d, derr = core.new({ name = "x", fields = { { f = { type = "string", nilable = true } } } }, true)
		local e, eerr = core.new({ name = "x", fields = { { f = { type = "map", keys = { type = "integer" }, values = { type = "string" } } } } }, true)
		local f = assert(core.new({ name = "y", primary_key = { "id" }, fields = { { id = { type = "string" } }, { c = { type = "foreign", reference = "consumers" } } } }))
		local ok, errs = f:validate({ id = "1", c = { id = "nope" } })
		return aerr, berr, cerr, derr, eerr, errs.c.id
	`, "expected a definition table", "error in schema definition: no 'fields' table",
		"schema refers to an invalid foreign entity: nope", "f: Entities cannot have nilable types.",
		"f: Entities map keys must be strings.", "expected a valid UUID")
}

func TestSchemaEntityRecordsRequired(t *testing.T) {
	in, _ := newDBState(t)
	wantResults(t, in, `
		local core = require "luahost.schema"
		local s = assert(core.new({ name = "z", primary_key = { "id" }, fields = {
			{ id = { type = "string" } },
			{ r = { type = "record", fields = { { a = { type = "string", default = "x" } } } } },
		} }, true))
		local ok, errs = s:validate({ id = "1", r = ngx.null })
		local d = s:process_auto_fields({ id = "1" }, "insert")
		return ok, errs.r, d.r.a
	`, "nil", "required field missing", "x")
}

func TestValidatePluginConfigSchema(t *testing.T) {
	in, _ := newDBState(t)
	wantResults(t, in, `
		local core = require "luahost.schema"
		local def = { name = "my-plugin", fields = {
			{ consumer = { type = "foreign", reference = "consumers", eq = ngx.null } },
			{ config = { type = "record", fields = {
				{ key_names = { type = "array", elements = { type = "string" }, default = { "apikey" } } },
				{ hide = { type = "boolean", required = true, default = false } },
				{ limit = { type = "integer", gt = 0 } },
			} } },
		} }
		local e = assert(core.validate_plugin_config_schema({}, def))
		local bad, errs = core.validate_plugin_config_schema({ limit = 0 }, def)
		return e.config.key_names[1], e.config.hide, e.name, e.enabled, bad, errs.config.limit
	`, "apikey", "false", "my-plugin", "true", "nil", "value must be greater than 0")
}

func TestSchemaErrorsToString(t *testing.T) {
	in, _ := newDBState(t)
	got := str(t, in, `
		local s = kong.db.consumers.schema
		return s:errors_to_string({ username = "bad", ["@entity"] = { "e1" } })
	`)
	if !strings.HasPrefix(got, "Validation error: e1; username: bad") {
		t.Fatal(got)
	}
}

// An empty Lua table is an empty array where the schema has an array or a
// set.
func TestSchemaEmptyTableIsEmptyArray(t *testing.T) {
	in, _ := newDBState(t)
	wantResults(t, in, `
		local core = require "luahost.schema"
		local s = assert(core.new({ name = "e", fields = {
			{ list = { type = "array", elements = { type = "string" } } },
			{ set = { type = "set", elements = { type = "string" } } },
			{ rec = { type = "record", fields = { { inner = { type = "array", elements = { type = "integer" } } } } } },
			{ map = { type = "map", keys = { type = "string" }, values = { type = "string" } } },
		} }))
		local ok, errs = s:validate({ list = {}, set = {}, rec = { inner = {} }, map = {} })
		local d = s:process_auto_fields({ list = {} }, "insert")
		return ok, errs, getmetatable(d.list) == require("cjson").array_mt
	`, "true", "nil", "true")
}

// Entity.new(...):new_subschema works on a state's own schemas; the shared
// kong.db entities refuse it.
func TestSchemaNewSubschema(t *testing.T) {
	in, _ := newDBState(t)
	wantResults(t, in, `
		local core = require "luahost.schema"
		local parent = assert(core.new({ name = "p", primary_key = { "id" }, subschema_key = "kind", fields = {
			{ id = { type = "string" } },
			{ kind = { type = "string", required = true } },
			{ config = { type = "record", abstract = true } },
		} }, true))
		assert(parent:new_subschema("a", { name = "a", fields = {
			{ config = { type = "record", fields = { { n = { type = "integer", default = 1 } } } } },
		} }))
		local _, bad = parent:new_subschema("b", { name = "b", fields = { { nope = { type = "string" } } } })
		local ok, errs = parent:validate({ id = "1", kind = "a", config = { n = "x" } })
		local _, shared = kong.db.plugins.schema:new_subschema("x", { name = "x", fields = {} })
		return ok, errs.config.n, bad, shared
	`, "nil", "expected an integer", "error in definition of 'b': nope: cannot create a new field",
		"error in definition of 'x': subschemas of 'plugins' are the enabled plugins' schemas")
}
