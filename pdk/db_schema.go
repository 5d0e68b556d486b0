package pdk

// Lua schema objects (Kong's kong/db/schema/init.lua as plugins use it):
// dao.schema and the objects made by Schema.new / Entity.new. An object is
// the definition table (fields both as the declared array of one-key tables
// and by name) whose methods run the Go engine of kongdb/schema.

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
)

// schemaObject returns the Lua object of a Go schema (one per schema per
// worker), built from the schema itself.
func (st *dbState) schemaObject(s *schema.Schema) *lua.LTable {
	if t, ok := st.objOf[s]; ok {
		return t
	}
	L := st.in.L
	t := bind.FromValue(L, SchemaDefinition(s), st.resolveFunc).(*lua.LTable)
	st.finishObject(t, s)
	if len(s.Subschemas) > 0 {
		// Kong's schema.subschemas[<key>] (plugins: one per enabled plugin)
		subs := L.CreateTable(0, len(s.Subschemas))
		for k, sub := range s.Subschemas {
			subs.RawSetString(k, st.schemaObject(sub))
		}
		t.RawSetString("subschemas", subs)
	}
	return t
}

// finishObject indexes fields by name (records too), sets the methods and
// records the Go schema of t.
func (st *dbState) finishObject(t *lua.LTable, s *schema.Schema) {
	indexFieldsByName(st.in.L, t)
	t.Metatable = st.schemaMeta()
	st.schemaObjs[t] = s
	st.objOf[s] = t
}

// indexFieldsByName makes t.fields.<name> the definition of field <name>,
// as Kong's Schema.new does, recursively for record fields.
func indexFieldsByName(L *lua.LState, t *lua.LTable) {
	fields, ok := t.RawGetString("fields").(*lua.LTable)
	if !ok {
		return
	}
	// A definition converted from Go has array_mt on fields: Kong's has none.
	if fields.Metatable == bind.ArrayMT(L) {
		fields.Metatable = lua.LNil
	}
	n := fields.Len()
	for i := 1; i <= n; i++ {
		item, ok := fields.RawGetInt(i).(*lua.LTable)
		if !ok {
			continue
		}
		item.ForEach(func(k, v lua.LValue) {
			if name, ok := k.(lua.LString); ok {
				if def, ok := v.(*lua.LTable); ok {
					fields.RawSetString(string(name), def)
					if def.RawGetString("type") == lua.LString("record") {
						indexFieldsByName(L, def)
					}
				}
			}
		})
	}
}

// schemaMeta is the metatable of schema objects: __index = the methods.
func (st *dbState) schemaMeta() *lua.LTable {
	if st.schemaMT != nil {
		return st.schemaMT
	}
	L := st.in.L
	methods := L.NewTable()
	ud := L.NewUserData()
	ud.Value = st
	for name, fn := range schemaMethods() {
		methods.RawSetString(name, L.NewClosure(fn, ud))
	}
	mt := L.NewTable()
	mt.RawSetString("__index", methods)
	st.schemaMT = mt
	return mt
}

// schemaOf returns the Go schema of the object at argument 1.
func schemaOf(L *lua.LState) (*dbState, *schema.Schema) {
	st := L.Get(lua.UpvalueIndex(1)).(*lua.LUserData).Value.(*dbState)
	t := L.CheckTable(1)
	s, ok := st.schemaObjs[t]
	if !ok {
		L.RaiseError("not a schema object")
	}
	return st, s
}

// tableArg converts argument n (a table, or nil when optional) into the
// value model.
func tableArg(L *lua.LState, n int, what string) map[string]any {
	v := L.Get(n)
	if v == lua.LNil {
		return nil
	}
	t, ok := v.(*lua.LTable)
	if !ok {
		L.RaiseError("%s must be a table", what)
	}
	x, err := bind.ToValue(L, t, nil)
	if err != nil {
		L.RaiseError("%s", err.Error())
	}
	m, _ := x.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m
}

// inputArg is tableArg for data checked against s: empty tables given
// for array and set fields become empty arrays (see entityArg).
func inputArg(L *lua.LState, n int, s *schema.Schema, what string) map[string]any {
	m := tableArg(L, n, what)
	if m != nil {
		emptyArrays(s.FieldsFor(m), m, 0)
	}
	return m
}

// raiseRun re-raises an error of a Lua function run by the engine.
func raiseRun(L *lua.LState, err error) {
	if ae, ok := err.(*lua.ApiError); ok && ae.Object != nil {
		L.Error(ae.Object, 0)
	}
	L.RaiseError("%s", err.Error())
}

// pushValidation pushes true, or nil and Kong's error table.
func pushValidation(L *lua.LState, errs map[string]any, err error) int {
	if err != nil {
		raiseRun(L, err)
	}
	if errs == nil {
		L.Push(lua.LTrue)
		return 1
	}
	L.Push(lua.LNil)
	L.Push(errTable(L, errs))
	return 2
}

// errTable converts a validation error table; Kong's are plain tables
// (arrays of element errors keep their holes, no array_mt).
func errTable(L *lua.LState, errs map[string]any) lua.LValue {
	t := bind.FromValue(L, errs, nil)
	stripArrayMT(L, t, 0)
	return t
}

func stripArrayMT(L *lua.LState, v lua.LValue, depth int) {
	t, ok := v.(*lua.LTable)
	if !ok || depth > bind.MaxDepth {
		return
	}
	if t.Metatable == bind.ArrayMT(L) {
		t.Metatable = lua.LNil
	}
	t.ForEach(func(_, e lua.LValue) { stripArrayMT(L, e, depth+1) })
}

// schemaMethods are the methods of schema objects (self is arg 1, the
// dbState upvalue 1). A function, not a variable: they refer back to
// schemaMeta.
func schemaMethods() map[string]lua.LGFunction {
	return map[string]lua.LGFunction{
		"validate": func(L *lua.LState) int {
			st, s := schemaOf(L)
			in := inputArg(L, 2, s, "input")
			full := L.Get(3) == lua.LNil || lua.LVAsBool(L.Get(3))
			errs, err := s.Validate(st.ctx(), in, full)
			return pushValidation(L, errs, err)
		},
		"validate_insert": func(L *lua.LState) int {
			st, s := schemaOf(L)
			errs, err := s.ValidateInsert(st.ctx(), inputArg(L, 2, s, "input"), nil)
			return pushValidation(L, errs, err)
		},
		"validate_upsert": func(L *lua.LState) int {
			st, s := schemaOf(L)
			errs, err := s.ValidateUpsert(st.ctx(), inputArg(L, 2, s, "input"), nil)
			return pushValidation(L, errs, err)
		},
		"validate_update": func(L *lua.LState) int {
			st, s := schemaOf(L)
			in := inputArg(L, 2, s, "input")
			errs, err := s.ValidateUpdate(st.ctx(), in, inputArg(L, 3, s, "original_input"), inputArg(L, 4, s, "rbw_entity"))
			return pushValidation(L, errs, err)
		},
		"validate_primary_key": func(L *lua.LState) int {
			st, s := schemaOf(L)
			errs, err := s.ValidatePrimaryKey(st.ctx(), tableArg(L, 2, "pk"), lua.LVAsBool(L.Get(3)))
			return pushValidation(L, errs, err)
		},
		"validate_immutable_fields": func(L *lua.LState) int {
			_, s := schemaOf(L)
			errs := s.ValidateImmutableFields(tableArg(L, 2, "input"), tableArg(L, 3, "entity"))
			return pushValidation(L, errs, nil)
		},
		"validate_field": func(L *lua.LState) int {
			st, s := schemaOf(L)
			f := st.fieldOfDef(L, s, L.CheckTable(1), L.Get(2))
			v, err := bind.ToValue(L, L.Get(3), nil)
			if err != nil {
				L.RaiseError("%s", err.Error())
			}
			e, err := s.ValidateField(st.ctx(), f, v)
			if err != nil {
				raiseRun(L, err)
			}
			if e == nil {
				L.Push(lua.LTrue)
				return 1
			}
			L.Push(lua.LNil)
			ev := bind.FromValue(L, e, nil)
			stripArrayMT(L, ev, 0)
			L.Push(ev)
			return 2
		},
		"process_auto_fields": func(L *lua.LState) int {
			st, s := schemaOf(L)
			data := inputArg(L, 2, s, "data")
			c := schema.Context(L.OptString(3, "select"))
			switch c {
			case schema.CtxInsert, schema.CtxUpdate, schema.CtxUpsert, schema.CtxSelect:
			default:
				L.RaiseError("invalid context: %s", string(c))
			}
			o := &schema.AutoOptions{Nulls: lua.LVAsBool(L.Get(4))}
			if t, ok := L.Get(5).(*lua.LTable); ok {
				o.ShowWsID = lua.LVAsBool(t.RawGetString("show_ws_id"))
				o.HideShorthands = lua.LVAsBool(t.RawGetString("hide_shorthands"))
			}
			out, errs, err := s.ProcessAutoFields(st.ctx(), data, c, o)
			if err != nil {
				raiseRun(L, err)
			}
			if errs != nil {
				L.Push(lua.LNil)
				L.Push(errTable(L, errs))
				return 2
			}
			L.Push(bind.FromValue(L, out, st.resolveFunc))
			return 1
		},
		"each_field": func(L *lua.LState) int {
			st, s := schemaOf(L)
			self := L.CheckTable(1)
			values := tableArg(L, 2, "values")
			fields := s.FieldsFor(values)
			sub := s.SubschemaFor(values)
			var subObj *lua.LTable
			if sub != nil {
				subObj = st.schemaObject(sub)
			}
			i := 0
			L.Push(L.NewFunction(func(L *lua.LState) int {
				if i >= len(fields) {
					return 0
				}
				f := fields[i]
				i++
				L.Push(lua.LString(f.Name))
				L.Push(fieldDefIn(L, self, subObj, f.Name))
				return 2
			}))
			return 1
		},
		"extract_pk_values": func(L *lua.LState) int {
			_, s := schemaOf(L)
			e := L.CheckTable(2)
			out := L.CreateTable(0, len(s.PrimaryKey))
			for _, k := range s.PrimaryKey {
				out.RawSetString(k, e.RawGetString(k))
			}
			L.Push(out)
			return 1
		},
		"errors_to_string": func(L *lua.LState) int {
			errs := tableArg(L, 2, "errors")
			if len(errs) == 0 {
				return 0
			}
			L.Push(lua.LString(schema.ErrorsToString(errs)))
			return 1
		},
		"merge_values": func(L *lua.LState) int {
			st, s := schemaOf(L)
			out := s.MergeValues(inputArg(L, 2, s, "top"), inputArg(L, 3, s, "bottom"))
			L.Push(bind.FromValue(L, out, st.resolveFunc))
			return 1
		},
		"transform": func(L *lua.LState) int {
			st, s := schemaOf(L)
			c := schema.Context(L.OptString(4, "insert"))
			out, err := s.Transform(st.ctx(), inputArg(L, 2, s, "input"), inputArg(L, 3, s, "original_input"), c)
			if err != nil {
				if te, ok := err.(*schema.TransformError); ok {
					return bind.Fail(L, te.Msg)
				}
				raiseRun(L, err)
			}
			L.Push(bind.FromValue(L, out, st.resolveFunc))
			return 1
		},
		"new_subschema": func(L *lua.LState) int {
			st, s := schemaOf(L)
			key := luavm.CheckString(L, 2)
			if !st.owned[s] {
				// The entities of kong.db are shared by every worker: their
				// subschemas are the enabled plugins' schema.lua.
				return bind.Fail(L, "error in definition of '"+key+"': subschemas of '"+s.Name+"' are the enabled plugins' schemas")
			}
			sub, err := st.defToSchema(L, L.Get(3), false)
			if err == nil {
				err = st.addSubschema(s, key, sub)
			}
			if err != nil {
				return bind.Fail(L, err.Error())
			}
			L.Push(lua.LTrue)
			return 1
		},
	}
}

// fieldDefIn returns the definition table of field name in a schema
// object (or in its subschema's object, which wins).
func fieldDefIn(L *lua.LState, obj, subObj *lua.LTable, name string) lua.LValue {
	for _, o := range []*lua.LTable{subObj, obj} {
		if o == nil {
			continue
		}
		if fs, ok := o.RawGetString("fields").(*lua.LTable); ok {
			if d := fs.RawGetString(name); d != lua.LNil {
				return d
			}
		}
	}
	return lua.LNil
}

// fieldOfDef finds the Go field whose definition table (or name) is def.
func (st *dbState) fieldOfDef(L *lua.LState, s *schema.Schema, obj *lua.LTable, def lua.LValue) *schema.Field {
	if name, ok := def.(lua.LString); ok {
		if f := s.Field(string(name)); f != nil {
			return f
		}
	}
	if fs, ok := obj.RawGetString("fields").(*lua.LTable); ok {
		for _, f := range s.Fields {
			if fs.RawGetString(f.Name) == def {
				return f
			}
		}
	}
	// A definition of its own (Kong accepts any field table).
	t, ok := def.(*lua.LTable)
	if !ok {
		L.RaiseError("field must be a table")
	}
	v, err := bind.ToValue(L, t, st.funcNamer(fmt.Sprintf("luahost.field/%d", st.nextFunc())))
	if err != nil {
		L.RaiseError("%s", err.Error())
	}
	m, _ := v.(map[string]any)
	f, err := schema.FieldFromMap("", m, nil)
	if err != nil {
		L.RaiseError("%s", err.Error())
	}
	return f
}

func (st *dbState) nextFunc() int {
	st.nfuncs++
	return st.nfuncs
}

// lookupSchema finds an entity schema for a foreign reference: one made
// with Schema.new / Entity.new in this state, else one of the DB, else a
// core entity.
func (st *dbState) lookupSchema(name string) *schema.Schema {
	if s := st.luaSchemas[name]; s != nil {
		return s
	}
	if st.db != nil {
		if d := st.db.DAO(name); d != nil {
			return d.Schema
		}
	}
	for _, s := range kongdb.CoreSchemas() {
		if s.Name == name {
			schema.Prepare(s)
			return s
		}
	}
	return nil
}
