package pdk

// DAO objects (Kong's kong/db/dao/init.lua DAO.new): per entity and per
// worker, a table { db, schema, strategy, errors, pagination, super } whose
// __index is super, the generated methods. A custom DAO module
// (schema.dao) has its functions copied onto the object, and reaches the
// defaults through self.super.<method>(self, ...).

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
)

// daoBinding is one entity's DAO object in one worker.
type daoBinding struct {
	st     *dbState
	dao    *kongdb.DAO
	s      *schema.Schema
	self   *lua.LTable
	super  *lua.LTable
	ud     *lua.LUserData // holds b: upvalue 1 of the methods
	custom string         // custom DAO module name ("" = none)

	defaultPostCrud *lua.LFunction
}

// newBinding builds the DAO object of d.
func (st *dbState) newBinding(d *kongdb.DAO) *daoBinding {
	L := st.in.L
	b := &daoBinding{st: st, dao: d, s: d.Schema, custom: d.Schema.DAO}
	b.ud = L.NewUserData()
	b.ud.Value = b

	super := L.CreateTable(0, len(daoMethods)+8)
	for name, fn := range daoMethods {
		super.RawSetString(name, L.NewClosure(fn, b.ud))
	}
	b.defaultPostCrud = super.RawGetString("post_crud_event").(*lua.LFunction)
	b.super = super

	self := L.CreateTable(0, 8)
	self.RawSetString("super", super)
	mt := L.CreateTable(0, 1)
	mt.RawSetString("__index", super)
	self.Metatable = mt
	b.self = self
	b.setDAO(d)
	luavm.InternKeys(self, 1) // its methods (super) read by name
	return b
}

// setDAO binds b to d: the per-field methods of d's schema and the
// fields of the DAO object that depend on d (SpecDB rebinds a DAO object
// to the same entity's DAO on another node).
func (b *daoBinding) setDAO(d *kongdb.DAO) {
	st, L := b.st, b.st.in.L
	b.dao, b.s = d, d.Schema
	for _, f := range d.Schema.Fields {
		name := lua.LString(f.Name)
		if f.Type == schema.TypeForeign {
			b.super.RawSetString("page_for_"+f.Name, L.NewClosure(daoPageFor, b.ud, name))
			b.super.RawSetString("each_for_"+f.Name, L.NewClosure(daoEachFor, b.ud, name))
		}
		if f.Unique || d.Schema.EndpointKey == f.Name {
			b.super.RawSetString("select_by_"+f.Name, L.NewClosure(daoSelectBy, b.ud, name))
			b.super.RawSetString("update_by_"+f.Name, L.NewClosure(daoUpdateBy, b.ud, name))
			b.super.RawSetString("upsert_by_"+f.Name, L.NewClosure(daoUpsertBy, b.ud, name))
			b.super.RawSetString("delete_by_"+f.Name, L.NewClosure(daoDeleteBy, b.ud, name))
		}
	}
	self := b.self
	self.RawSetString("db", st.kdb)
	self.RawSetString("schema", st.schemaObject(d.Schema))
	self.RawSetString("strategy", st.strategyObject(b))
	self.RawSetString("errors", st.errorsObj)
	pag := L.CreateTable(0, 2)
	pag.RawSetString("page_size", lua.LNumber(d.PageSize))
	pag.RawSetString("max_page_size", lua.LNumber(d.MaxPageSize))
	self.RawSetString("pagination", pag)
}

// loadCustomDAO requires the custom DAO module and copies its functions
// onto the DAO object (Kong copies every key of the module).
func (st *dbState) loadCustomDAO(b *daoBinding) {
	L := st.in.L
	if err := luavm.CallProtected(L, L.GetGlobal("require"), 1, false, lua.LString(b.custom)); err != nil {
		if !hasLuaDAOModule(b.s) {
			// Core entities' custom DAOs (kong.db.dao.plugins, ...) are
			// part of the Go DAO; a Lua module of that name is optional.
			return
		}
		delete(st.bindings, b.s.Name)
		st.daos.RawSetString(b.s.Name, lua.LNil)
		st.kdb.RawSetString(b.s.Name, lua.LNil)
		L.RaiseError("failed to load custom DAO module '%s' of entity '%s': %s", b.custom, b.s.Name, apiErrMsg(err))
	}
	m := L.Get(-1)
	L.Pop(1)
	if t, ok := m.(*lua.LTable); ok {
		t.ForEach(func(k, v lua.LValue) { b.self.RawSet(k, v) })
	}
}

func apiErrMsg(err error) string {
	if ae, ok := err.(*lua.ApiError); ok && ae.Object != nil {
		return ae.Object.String()
	}
	return err.Error()
}

// override returns the Lua post_crud_event of the DAO object when it is
// not the default one (a custom DAO module's, or one assigned at run time).
func (b *daoBinding) override() *lua.LFunction {
	fn, ok := b.self.RawGetString("post_crud_event").(*lua.LFunction)
	if !ok || fn == b.defaultPostCrud {
		return nil
	}
	return fn
}

// callOverride runs a Lua post_crud_event from inside a Go DAO write. Its
// error is kept and raised when the DAO call returns to Lua.
func (b *daoBinding) callOverride(fn *lua.LFunction, op string, entity, old kongdb.Row, o *kongdb.Options) {
	L := b.st.in.L
	var oldV lua.LValue = lua.LNil
	if old != nil {
		oldV = b.rowToLua(old)
	}
	var entV lua.LValue = lua.LNil
	if entity != nil {
		entV = b.rowToLua(entity)
	}
	err := luavm.CallProtected(L, fn, 0, false, b.self, lua.LString(op), entV, oldV, optionsToLua(L, o))
	if err != nil && b.st.pendingErr == nil {
		b.st.pendingErr = err
	}
}

// optionsToLua rebuilds the options a write was called with, as far as
// post_crud_event cares (nil when none were set).
func optionsToLua(L *lua.LState, o *kongdb.Options) lua.LValue {
	if o == nil || !(o.NoBroadcastCrud || o.Nulls || o.ShowWsID || o.TTL != nil) {
		return lua.LNil
	}
	t := L.CreateTable(0, 4)
	if o.NoBroadcastCrud {
		t.RawSetString("no_broadcast_crud_event", lua.LTrue)
	}
	if o.Nulls {
		t.RawSetString("nulls", lua.LTrue)
	}
	if o.ShowWsID {
		t.RawSetString("show_ws_id", lua.LTrue)
	}
	if o.TTL != nil {
		t.RawSetString("ttl", lua.LNumber(*o.TTL))
	}
	return t
}

// rowToLua converts an entity into a Lua table, keys in the schema's field
// order (then ttl, ws_id and any other key), arrays with cjson.array_mt.
func (b *daoBinding) rowToLua(row kongdb.Row) *lua.LTable {
	c := rowConv{L: b.st.in.L, keys: &b.st.keys}
	return c.record(b.s.Fields, row)
}

// luaKeys are field names boxed once as Lua keys, per list of fields (by
// its first element's address), so a table built for a row allocates no
// key.
type luaKeys map[**schema.Field][]lua.LValue

// of returns the keys of fields.
func (k *luaKeys) of(fields []*schema.Field) []lua.LValue {
	if len(fields) == 0 {
		return nil
	}
	if ks := (*k)[&fields[0]]; len(ks) == len(fields) {
		return ks
	}
	return k.rebuild(fields)
}

func (k *luaKeys) rebuild(fields []*schema.Field) []lua.LValue {
	if *k == nil {
		*k = luaKeys{}
	}
	ks := make([]lua.LValue, len(fields))
	for i, f := range fields {
		// the names the code reads rows by, as the code's copies
		ks[i] = lua.LString(luavm.Intern(f.Name))
	}
	(*k)[&fields[0]] = ks
	return ks
}

// rowConv converts rows of the value model into Lua tables.
type rowConv struct {
	L    *lua.LState
	keys *luaKeys
}

// record builds the table of m in one go (luavm.NewRecord): the fields of
// m in declared order, then its keys that are not fields.
func (c *rowConv) record(fields []*schema.Field, m map[string]any) *lua.LTable {
	keys := c.keys.of(fields)
	var nb [16]string
	var kb, vb [16]lua.LValue
	names, ks, vals := nb[:0], kb[:0], vb[:0]
	for i, f := range fields {
		v, ok := m[f.Name]
		if !ok {
			continue
		}
		k := keys[i]
		if ls, _ := k.(lua.LString); string(ls) != f.Name {
			// the list changed in place since its keys were made
			keys = c.keys.rebuild(fields)
			k = keys[i]
		}
		names = append(names, string(k.(lua.LString))) // interned (rebuild)
		ks = append(ks, k)
		vals = append(vals, c.value(f, v))
	}
	if len(names) < len(m) {
		for k, v := range m {
			if fieldNamed(fields, k) == nil {
				names = append(names, k)
				ks = append(ks, lua.LString(k))
				vals = append(vals, bind.FromValue(c.L, v, nil))
			}
		}
	}
	return luavm.NewRecord(names, ks, vals)
}

func fieldNamed(fields []*schema.Field, name string) *schema.Field {
	for _, f := range fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// value converts the value of field f.
func (c *rowConv) value(f *schema.Field, v any) lua.LValue {
	L := c.L
	if lv, ok := luavm.LValueOf(v); ok {
		// a string or a number: the row's box serves the table
		return lv
	}
	switch x := v.(type) {
	case bool:
		return lua.LBool(x)
	case map[string]any:
		switch {
		case len(x) == 0 && (f.Type == schema.TypeArray || f.Type == schema.TypeSet):
			// an empty Lua table given for an array reads back as one
			t := L.CreateTable(0, 0)
			t.Metatable = bind.ArrayMT(L)
			return t
		case f.Type == schema.TypeRecord && len(f.Fields) > 0:
			return c.record(f.Fields, x)
		case f.Type == schema.TypeForeign && f.RefSchema != nil:
			return c.record(f.RefSchema.Fields, x)
		}
	case []any:
		if f.Elements != nil {
			t := L.CreateTable(len(x), 0)
			for i, e := range x {
				t.RawSetInt(i+1, c.value(f.Elements, e))
			}
			if f.Type == schema.TypeSet && len(x) > 0 {
				t.Metatable = setMT(L)
			} else {
				t.Metatable = bind.ArrayMT(L)
			}
			return t
		}
	}
	return bind.FromValue(L, v, nil)
}

const setMTKey = "luahost.set_mt"

// setMT is the metatable of a non-empty set field's value (Kong's Set_mt):
// a member is also a key, so `entity.protocols.https` is true.
func setMT(L *lua.LState) *lua.LTable {
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	if t, ok := reg.RawGetString(setMTKey).(*lua.LTable); ok {
		return t
	}
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		t := L.CheckTable(1)
		k := L.Get(2)
		for i, n := 1, t.Len(); i <= n; i++ {
			if t.RawGetInt(i) == k {
				L.Push(lua.LTrue)
				return 1
			}
		}
		return 0
	}))
	reg.RawSetString(setMTKey, mt)
	return mt
}

// binding of a DAO method: upvalue 1.
func bindingOf(L *lua.LState) *daoBinding {
	b := L.Get(lua.UpvalueIndex(1)).(*lua.LUserData).Value.(*daoBinding)
	if b.st.suspended != nil {
		b.st.resume(L) // rebinds b's DAO too
	}
	return b
}

// fieldOf is upvalue 2 of a per-field method.
func fieldOf(L *lua.LState) string {
	return string(L.Get(lua.UpvalueIndex(2)).(lua.LString))
}

// arg converts argument n into the value model (nil when absent).
func (b *daoBinding) arg(L *lua.LState, n int) any {
	lv := L.Get(n)
	if v, ok := luavm.AnyOf(lv); ok {
		// a string or a number: its Lua box serves the Go value
		return v
	}
	switch v := lv.(type) {
	case *lua.LNilType:
		return nil
	default:
		x, err := bind.ToValue(L, v, nil)
		if err != nil {
			L.RaiseError("%s", err.Error())
		}
		return x
	}
}

// entityArg converts an entity argument. An empty Lua table is both an
// empty array and an empty map: it becomes an empty array where the schema
// has an array or a set (Kong's make_array / make_set on an empty
// sequence).
func (b *daoBinding) entityArg(L *lua.LState, n int) any {
	v := b.arg(L, n)
	if m, ok := v.(map[string]any); ok {
		emptyArrays(b.s.Fields, m, 0)
	}
	return v
}

func emptyArrays(fields []*schema.Field, m map[string]any, depth int) {
	if depth > bind.MaxDepth {
		return
	}
	for _, f := range fields {
		v, ok := m[f.Name]
		if !ok {
			continue
		}
		switch x := v.(type) {
		case map[string]any:
			switch {
			case len(x) == 0 && (f.Type == schema.TypeArray || f.Type == schema.TypeSet):
				m[f.Name] = []any{}
			case f.Type == schema.TypeRecord:
				emptyArrays(f.Fields, x, depth+1)
			}
		case []any:
			if f.Elements != nil && f.Elements.Type == schema.TypeRecord {
				for _, e := range x {
					if em, ok := e.(map[string]any); ok {
						emptyArrays(f.Elements.Fields, em, depth+1)
					}
				}
			}
		}
	}
}

// done checks for a pending error of a post_crud_event override.
func (b *daoBinding) done(L *lua.LState) {
	if err := b.st.pendingErr; err != nil {
		b.st.pendingErr = nil
		if ae, ok := err.(*lua.ApiError); ok && ae.Object != nil {
			L.Error(ae.Object, 0)
		}
		L.RaiseError("%s", err.Error())
	}
}

// pushRow pushes an entity, or the failure triple.
func (b *daoBinding) pushRow(L *lua.LState, row kongdb.Row, err error) int {
	b.done(L)
	if err != nil {
		return pushDBError(L, b.dao.Errors, err)
	}
	if row == nil {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(b.rowToLua(row))
	return 1
}

// pushPage pushes rows, nil, nil, offset (offset only when there is a next
// page).
func (b *daoBinding) pushPage(L *lua.LState, rows []kongdb.Row, next string, err error) int {
	if err != nil {
		return pushDBError(L, b.dao.Errors, err)
	}
	t := L.CreateTable(len(rows), 0)
	for i, r := range rows {
		t.RawSetInt(i+1, b.rowToLua(r))
	}
	t.Metatable = bind.ArrayMT(L)
	L.Push(t)
	if next == "" {
		return 1
	}
	L.Push(lua.LNil)
	L.Push(lua.LNil)
	L.Push(lua.LString(next))
	return 4
}

// pushDeleted pushes delete's result: true, nil (row vanished), or the
// failure triple.
func (b *daoBinding) pushDeleted(L *lua.LState, ok bool, err error) int {
	b.done(L)
	if err != nil {
		return pushDBError(L, b.dao.Errors, err)
	}
	if ok {
		L.Push(lua.LTrue)
	} else {
		L.Push(lua.LNil)
	}
	return 1
}
