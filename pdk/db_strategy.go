package pdk

// dao.strategy: the per-schema storage under a DAO (Kong's
// strategies/<db>/init.lua), as custom DAO modules call it
// (self.strategy:select(pk), :page(size, offset), ...). Rows are returned
// as stored (no row_to_entity); a failure is nil, err_t.

import (
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
)

// strategyObject builds dao.strategy. A plugin may add to it (Kong's
// load_plugin_entity_strategy): the functions of module
// kong.plugins.<plugin>.strategies.<strategy>.<entity>, when it exists,
// override or extend the defaults, which stay reachable as strategy.super.
func (st *dbState) strategyObject(b *daoBinding) *lua.LTable {
	L := st.in.L
	ud := L.NewUserData()
	ud.Value = b
	base := L.CreateTable(0, len(strategyMethods))
	for name, fn := range strategyMethods {
		base.RawSetString(name, L.NewClosure(fn, ud))
	}
	t := L.CreateTable(0, len(strategyMethods)+1)
	base.ForEach(func(k, v lua.LValue) { t.RawSet(k, v) })
	t.RawSetString("super", base)
	if plugin := pluginOf(b.s); plugin != "" {
		name := "kong.plugins." + plugin + ".strategies." + st.db.Strategy() + "." + b.s.Name
		if mod, ok := st.requireIfExists(name).(*lua.LTable); ok {
			mod.ForEach(func(k, v lua.LValue) {
				if _, isFn := v.(*lua.LFunction); isFn {
					t.RawSet(k, v)
				}
			})
		}
	}
	return t
}

// pluginOf is the plugin that defined an entity (Schema.Origin is
// "plugin <name>, daos.lua"), or "".
func pluginOf(s *schema.Schema) string {
	rest, ok := strings.CutPrefix(s.Origin, "plugin ")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, ",")
	return name
}

// requireIfExists is Kong's load_module_if_exists: the module, or nil when
// there is no such module; a module that fails to load raises.
func (st *dbState) requireIfExists(name string) lua.LValue {
	L := st.in.L
	err := luavm.CallProtected(L, L.GetGlobal("require"), 1, false, lua.LString(name))
	if err == nil {
		v := L.Get(-1)
		L.Pop(1)
		return v
	}
	msg := apiErrMsg(err)
	if strings.Contains(msg, "module "+name+" not found") || strings.Contains(msg, "module '"+name+"' not found") {
		return lua.LNil
	}
	L.RaiseError("%s", msg)
	return lua.LNil
}

// strategyOptions resolves the options of a raw strategy call: the DAO's
// pagination, the current workspace, ttl when given.
func (b *daoBinding) strategyOptions(L *lua.LState, n int) *kongdb.Options {
	ctx := b.st.ctx()
	o := &kongdb.Options{PageSize: b.dao.PageSize, MaxPageSize: b.dao.MaxPageSize}
	if b.s.Workspaceable {
		if ws := kongdb.WorkspaceFrom(ctx); ws != "" {
			o.Workspace = ws
		} else if ws, err := b.st.db.DefaultWorkspace(ctx); err == nil {
			o.Workspace = ws
		}
	}
	if t, ok := L.Get(n).(*lua.LTable); ok {
		if ttl, ok := t.RawGetString("ttl").(lua.LNumber); ok {
			v := int(ttl)
			o.TTL = &v
		}
		if bind.IsNull(t.RawGetString("workspace")) {
			o.GlobalWorkspace = true
			o.Workspace = ""
		}
		o.ShowWsID = lua.LVAsBool(t.RawGetString("show_ws_id"))
		o.SkipTTL = lua.LVAsBool(t.RawGetString("skip_ttl"))
		o.Export = lua.LVAsBool(t.RawGetString("export"))
	}
	return o
}

func (b *daoBinding) mapArg(L *lua.LState, n int) map[string]any {
	m, _ := b.arg(L, n).(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m
}

// pushRaw pushes a stored row (nil when none) or nil, err_t.
func (b *daoBinding) pushRaw(L *lua.LState, row kongdb.Row, err error) int {
	if err != nil {
		return b.pushRawErr(L, err)
	}
	if row == nil {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(b.rowToLua(row))
	return 1
}

func (b *daoBinding) pushRawErr(L *lua.LState, err error) int {
	e, ok := kongdb.AsError(err)
	if !ok {
		e = b.dao.Errors.DatabaseError(err.Error(), err)
	}
	L.Push(lua.LNil)
	L.Push(ErrToLua(L, e))
	return 2
}

func (b *daoBinding) pushRawPage(L *lua.LState, rows []kongdb.Row, next string, err error) int {
	if err != nil {
		return b.pushRawErr(L, err)
	}
	t := L.CreateTable(len(rows), 0)
	for i, r := range rows {
		t.RawSetInt(i+1, b.rowToLua(r))
	}
	L.Push(t)
	L.Push(lua.LNil)
	if next == "" {
		return 2
	}
	L.Push(lua.LString(next))
	return 3
}

var strategyMethods = map[string]lua.LGFunction{
	"select": func(L *lua.LState) int {
		b := bindingOf(L)
		row, err := b.dao.Strategy().Select(b.st.ctx(), b.mapArg(L, 2), b.strategyOptions(L, 3))
		return b.pushRaw(L, row, err)
	},
	"select_by_field": func(L *lua.LState) int {
		b := bindingOf(L)
		row, err := b.dao.Strategy().SelectByField(b.st.ctx(), luavm.CheckString(L, 2), b.arg(L, 3), b.strategyOptions(L, 4))
		return b.pushRaw(L, row, err)
	},
	"page": func(L *lua.LState) int {
		b := bindingOf(L)
		o := b.strategyOptions(L, 4)
		size := L.OptInt(2, o.PageSize)
		rows, next, err := b.dao.Strategy().Page(b.st.ctx(), size, L.OptString(3, ""), o)
		return b.pushRawPage(L, rows, next, err)
	},
	"insert": func(L *lua.LState) int {
		b := bindingOf(L)
		row, err := b.dao.Strategy().Insert(b.st.ctx(), b.mapArg(L, 2), b.strategyOptions(L, 3))
		return b.pushRaw(L, row, err)
	},
	"update": func(L *lua.LState) int {
		b := bindingOf(L)
		row, err := b.dao.Strategy().Update(b.st.ctx(), b.mapArg(L, 2), b.mapArg(L, 3), b.strategyOptions(L, 4))
		return b.pushRaw(L, row, err)
	},
	"update_by_field": func(L *lua.LState) int {
		b := bindingOf(L)
		row, err := b.dao.Strategy().UpdateByField(b.st.ctx(), luavm.CheckString(L, 2), b.arg(L, 3), b.mapArg(L, 4), b.strategyOptions(L, 5))
		return b.pushRaw(L, row, err)
	},
	"upsert": func(L *lua.LState) int {
		b := bindingOf(L)
		row, err := b.dao.Strategy().Upsert(b.st.ctx(), b.mapArg(L, 2), b.mapArg(L, 3), b.strategyOptions(L, 4))
		return b.pushRaw(L, row, err)
	},
	"upsert_by_field": func(L *lua.LState) int {
		b := bindingOf(L)
		row, err := b.dao.Strategy().UpsertByField(b.st.ctx(), luavm.CheckString(L, 2), b.arg(L, 3), b.mapArg(L, 4), b.strategyOptions(L, 5))
		return b.pushRaw(L, row, err)
	},
	"delete": func(L *lua.LState) int {
		b := bindingOf(L)
		ok, err := b.dao.Strategy().Delete(b.st.ctx(), b.mapArg(L, 2), b.strategyOptions(L, 3))
		if err != nil {
			return b.pushRawErr(L, err)
		}
		L.Push(lua.LBool(ok))
		return 1
	},
	"delete_by_field": func(L *lua.LState) int {
		b := bindingOf(L)
		ok, err := b.dao.Strategy().DeleteByField(b.st.ctx(), luavm.CheckString(L, 2), b.arg(L, 3), b.strategyOptions(L, 4))
		if err != nil {
			return b.pushRawErr(L, err)
		}
		L.Push(lua.LBool(ok))
		return 1
	},
	"truncate": func(L *lua.LState) int {
		b := bindingOf(L)
		if err := b.dao.Strategy().Truncate(b.st.ctx()); err != nil {
			return b.pushRawErr(L, err)
		}
		L.Push(lua.LTrue)
		return 1
	},
}
