package pdk

// The "luahost.schema" module behind the embedded kong.db.schema and
// kong.db.schema.entity: Schema.new / Entity.new from a Lua definition,
// backed by kongdb/schema; and SchemaDefinition, a Go schema as its Lua
// definition (for dao.schema).

import (
	"errors"
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
	"github.com/luahost/luahost/pdk/bind"
)

// openSchemaModule is require "luahost.schema": new(def, is_entity),
// methods (the schema object methods), validate_plugin_config_schema.
func (st *dbState) openSchemaModule(L *lua.LState) int {
	m := L.NewTable()
	m.RawSetString("new", L.NewFunction(func(L *lua.LState) int {
		return st.luaNew(L, lua.LVAsBool(L.Get(2)))
	}))
	methods := L.NewTable()
	st.schemaMeta().RawGetString("__index").(*lua.LTable).ForEach(func(k, v lua.LValue) { methods.RawSet(k, v) })
	m.RawSetString("methods", methods)
	m.RawSetString("validate_plugin_config_schema", L.NewFunction(st.validatePluginConfig))
	L.Push(m)
	return 1
}

// luaNew is Schema.new(def) (entity = false) and Entity.new(def): nil and
// an error message on a bad definition, else the schema object.
func (st *dbState) luaNew(L *lua.LState, entity bool) int {
	def, ok := L.Get(1).(*lua.LTable)
	if !ok {
		return bind.Fail(L, "expected a definition table")
	}
	s, err := st.defToSchema(L, def, entity)
	if err != nil {
		return bind.Fail(L, err.Error())
	}
	if s.Name != "" {
		st.luaSchemas[s.Name] = s
	}
	st.owned[s] = true
	obj := deepCopyTable(L, def, map[*lua.LTable]*lua.LTable{})
	st.finishObject(obj, s)
	L.Push(obj)
	return 1
}

// deepCopyTable copies a definition as Kong's Schema.new does, with
// cycle_aware_deep_copy: metatables kept (typedefs' are), and a table met
// again (a cycle, or one shared by two fields) given the same copy, so the
// copy has the original's shape and costs one step per table.
func deepCopyTable(L *lua.LState, t *lua.LTable, copies map[*lua.LTable]*lua.LTable) *lua.LTable {
	if c, ok := copies[t]; ok {
		return c
	}
	out := L.NewTable()
	copies[t] = out
	var subs []*lua.LTable
	t.ForEach(func(k, v lua.LValue) {
		out.RawSet(k, v)
		if vt, ok := v.(*lua.LTable); ok {
			subs = append(subs, vt)
		}
	})
	// the sub-tables are copied iteratively, a work list instead of
	// recursion: nesting is bounded by nothing but the definition
	for len(subs) > 0 {
		vt := subs[len(subs)-1]
		subs = subs[:len(subs)-1]
		if _, ok := copies[vt]; ok {
			continue
		}
		c := L.NewTable()
		copies[vt] = c
		vt.ForEach(func(k, v lua.LValue) {
			c.RawSet(k, v)
			if st, ok := v.(*lua.LTable); ok {
				subs = append(subs, st)
			}
		})
	}
	// then every table-valued field is pointed at its copy
	for orig, c := range copies {
		c.Metatable = orig.Metatable
		c.ForEach(func(k, v lua.LValue) {
			if vt, ok := v.(*lua.LTable); ok {
				c.RawSet(k, copies[vt])
			}
		})
	}
	return out
}

// defToSchema builds and prepares a Go schema from a Lua definition.
func (st *dbState) defToSchema(L *lua.LState, def lua.LValue, entity bool) (*schema.Schema, error) {
	t, ok := def.(*lua.LTable)
	if !ok {
		return nil, errors.New("expected a definition table")
	}
	name, _ := t.RawGetString("name").(lua.LString)
	v, err := bind.ToValue(L, t, st.funcNamer(fmt.Sprintf("luahost.schema/%d/%s", st.nextFunc(), string(name))))
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	if m == nil || m["fields"] == nil {
		return nil, errors.New("error in schema definition: no 'fields' table")
	}
	s, err := schema.SchemaFromMap(m)
	if err != nil {
		return nil, err
	}
	if entity {
		if err := schema.EntityRules(s); err != nil {
			return nil, err
		}
	}
	if err := resolveRefs(s, st.lookupSchema); err != nil {
		return nil, err
	}
	schema.Prepare(s)
	return s, nil
}

// resolveRefs points the foreign fields of s at their schemas, without
// touching the referenced schemas (they may be shared by every worker).
func resolveRefs(s *schema.Schema, lookup func(string) *schema.Schema) error {
	for _, f := range s.Fields {
		if f.Type != schema.TypeForeign || f.RefSchema != nil {
			continue
		}
		ref := lookup(f.Reference)
		if ref == nil && f.Reference == s.Name {
			ref = s
		}
		if ref == nil {
			return fmt.Errorf(schema.MsgBadReference, f.Reference)
		}
		f.RefSchema = ref
	}
	return nil
}

// addSubschema is schema:new_subschema(key, def) (Entity.new_subschema
// rules) on a schema of this state.
func (st *dbState) addSubschema(parent *schema.Schema, key string, sub *schema.Schema) error {
	if err := schema.SubschemaRules(parent, key, sub); err != nil {
		return err
	}
	schema.FinishSubschema(parent, sub)
	subs := make(map[string]*schema.Schema, len(parent.Subschemas)+1)
	for k, v := range parent.Subschemas {
		subs[k] = v
	}
	subs[key] = sub
	parent.Subschemas = subs
	return nil
}

// validatePluginConfig is spec.helpers.validate_plugin_config_schema(config,
// schema_def, extra_fields): the plugin entity { id, name, config } run
// through process_auto_fields("insert") and validate_insert of a plugins
// entity carrying schema_def as its subschema. Returns the processed
// entity, or nil and the error table.
func (st *dbState) validatePluginConfig(L *lua.LState) int {
	def := L.CheckTable(2)
	plugins := kongdb.PluginsSchema()
	if err := resolveRefs(plugins, st.lookupSchema); err != nil {
		L.RaiseError("%s", err.Error())
	}
	schema.Prepare(plugins)
	sub, err := st.defToSchema(L, def, false)
	if err != nil {
		L.RaiseError("%s", err.Error())
	}
	name, _ := def.RawGetString("name").(lua.LString)
	if err := st.addSubschema(plugins, string(name), sub); err != nil {
		L.RaiseError("%s", err.Error())
	}
	entity := map[string]any{"name": string(name)}
	if c := L.Get(1); c != lua.LNil {
		v, err := bind.ToValue(L, c, nil)
		if err != nil {
			L.RaiseError("%s", err.Error())
		}
		entity["config"] = v
	}
	if extra := tableArg(L, 3, "extra_fields"); extra != nil {
		for k, v := range extra {
			entity[k] = v
		}
	}
	ctx := st.ctx()
	out, errs, err := plugins.ProcessAutoFields(ctx, entity, schema.CtxInsert, nil)
	if err != nil {
		raiseRun(L, err)
	}
	if errs == nil {
		errs, err = plugins.ValidateInsert(ctx, out, nil)
		if err != nil {
			raiseRun(L, err)
		}
	}
	if errs != nil {
		L.Push(lua.LNil)
		L.Push(errTable(L, errs))
		return 2
	}
	L.Push(bind.FromValue(L, out, st.resolveFunc))
	return 1
}

// SchemaDefinition returns a Go schema as its definition in the value
// model (what its schema.lua / daos.lua entry would convert to): fields as
// an array of one-key tables, with the attributes that are set.
func SchemaDefinition(s *schema.Schema) map[string]any {
	d := map[string]any{"fields": fieldList(s.Fields)}
	if s.Name != "" {
		d["name"] = s.Name
	}
	if len(s.PrimaryKey) > 0 {
		d["primary_key"] = strs(s.PrimaryKey)
	}
	if len(s.CacheKey) > 0 {
		d["cache_key"] = strs(s.CacheKey)
	}
	setIf(d, "endpoint_key", s.EndpointKey)
	setIf(d, "subschema_key", s.SubschemaKey)
	setIf(d, "subschema_error", s.SubschemaError)
	setIf(d, "admin_api_name", s.AdminAPIName)
	setIf(d, "admin_api_nested_name", s.AdminAPINestedName)
	setIf(d, "table_name", s.TableName)
	setIf(d, "dao", s.DAO)
	if s.Workspaceable {
		d["workspaceable"] = true
	}
	if s.TTL {
		d["ttl"] = true
	}
	if !s.DBExport {
		d["db_export"] = false
	}
	if !s.GenerateAdminAPI {
		d["generate_admin_api"] = false
	}
	if len(s.EntityChecks) > 0 {
		d["entity_checks"] = entityChecks(s.EntityChecks)
	}
	if s.Check != nil {
		d["check"] = s.Check
	}
	return d
}

func strs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func setIf(d map[string]any, k, v string) {
	if v != "" {
		d[k] = v
	}
}

func entityChecks(ecs []schema.EntityCheck) []any {
	out := make([]any, len(ecs))
	for i, c := range ecs {
		out[i] = map[string]any{c.Name: c.Arg}
	}
	return out
}

func fieldList(fs []*schema.Field) []any {
	out := make([]any, len(fs))
	for i, f := range fs {
		out[i] = map[string]any{f.Name: FieldDefinition(f)}
	}
	return out
}

// FieldDefinition returns a field as its definition table.
func FieldDefinition(f *schema.Field) map[string]any {
	d := map[string]any{"type": string(f.Type)}
	flags := []struct {
		k string
		v bool
	}{
		{"unique", f.Unique}, {"unique_across_ws", f.UniqueAcrossWS}, {"immutable", f.Immutable},
		{"auto", f.Auto}, {"abstract", f.Abstract}, {"transient", f.Transient},
		{"referenceable", f.Referenceable}, {"encrypted", f.Encrypted}, {"nilable", f.Nilable},
		{"timestamp", f.Timestamp}, {"uuid", f.UUID}, {"is_regex", f.IsRegex},
	}
	for _, fl := range flags {
		if fl.v {
			d[fl.k] = true
		}
	}
	if f.RequiredSet || f.Required {
		d["required"] = f.Required
	}
	if f.HasDefault {
		d["default"] = schema.DeepCopy(f.Default)
	}
	setIf(d, "reference", f.Reference)
	setIf(d, "on_delete", f.OnDelete)
	setIf(d, "err", f.Err)
	setIf(d, "description", f.Description)
	if f.Elements != nil {
		d["elements"] = FieldDefinition(f.Elements)
	}
	if f.Keys != nil {
		d["keys"] = FieldDefinition(f.Keys)
	}
	if f.Values != nil {
		d["values"] = FieldDefinition(f.Values)
	}
	if f.Type == schema.TypeRecord {
		d["fields"] = fieldList(f.Fields)
	}
	if f.HasEq {
		d["eq"] = f.Eq
	}
	if f.HasNe {
		d["ne"] = f.Ne
	}
	if f.HasContains {
		d["contains"] = f.Contains
	}
	if f.OneOf != nil {
		d["one_of"] = f.OneOf
	}
	if f.NotOneOf != nil {
		d["not_one_of"] = f.NotOneOf
	}
	if f.Gt != nil {
		d["gt"] = *f.Gt
	}
	if f.Between != nil {
		d["between"] = []any{f.Between[0], f.Between[1]}
	}
	for _, l := range []struct {
		k string
		v *int
	}{{"len_eq", f.LenEq}, {"len_min", f.LenMin}, {"len_max", f.LenMax}} {
		if l.v != nil {
			d[l.k] = float64(*l.v)
		}
	}
	for _, p := range []struct {
		k string
		v *string
	}{{"starts_with", f.StartsWith}, {"not_match", f.NotMatch}, {"match", f.Match}} {
		if p.v != nil {
			d[p.k] = *p.v
		}
	}
	if f.CustomValidator != nil {
		d["custom_validator"] = f.CustomValidator
	}
	if len(f.EntityChecks) > 0 {
		d["entity_checks"] = entityChecks(f.EntityChecks)
	}
	return d
}
