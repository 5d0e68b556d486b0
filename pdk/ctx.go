package pdk

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
)

// ctxKeys are private keys inside ngx.ctx (tables, so no string key of a
// plugin can collide): kong.ctx.shared, the kong.ctx.plugin namespaces and
// kong.log's serialize values.
type ctxKeys struct {
	shared, plugins, serialize *lua.LTable
}

// newKongCtx is kong.ctx: kong.ctx.shared (per request) and kong.ctx.plugin
// (per request and plugin, keyed by Instance.PluginName()), both kept inside
// ngx.ctx so that resetting ngx.ctx resets them.
func (in *Instance) newKongCtx() *lua.LTable {
	L := in.L
	t := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		switch luavm.CheckString(L, 2) {
		case "shared":
			L.Push(in.ctxTable(in.ctxKeys.shared))
			return 1
		case "plugin":
			ns := in.ctxTable(in.ctxKeys.plugins)
			key := lua.LString(in.plugin)
			p, ok := ns.RawGet(key).(*lua.LTable)
			if !ok {
				p = L.NewTable()
				ns.RawSet(key, p)
			}
			L.Push(p)
			return 1
		}
		return 0
	}))
	t.Metatable = mt
	return t
}

// ctxTable returns (creating it) the table stored in ngx.ctx under key.
func (in *Instance) ctxTable(key *lua.LTable) *lua.LTable {
	if t, ok := in.CurrentCtx().RawGet(key).(*lua.LTable); ok {
		return t
	}
	t := in.L.NewTable()
	in.CurrentCtx().RawSet(key, t)
	return t
}
