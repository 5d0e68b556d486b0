// Package luajit is LuaJIT's extension modules that Kong and its plugins
// require, Go-backed: table.new, table.clear, table.nkeys, table.isempty,
// table.isarray and table.clone, each a module returning one function.
package luajit

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/pdk/bind"
)

// Open preloads the table.* modules in L; table.new's preallocations are
// charged to budget. Requiring one also sets its function in the table
// library, as OpenResty's LuaJIT does (require "table.clone" makes
// table.clone callable).
func Open(L *lua.LState, budget *bind.Budget) {
	lib, _ := L.GetGlobal("table").(*lua.LTable)
	for name, fn := range map[string]lua.LGFunction{
		"new": TableNew(budget), "clear": TableClear, "nkeys": tableNkeys,
		"isempty": tableIsEmpty, "isarray": tableIsArray, "clone": tableClone,
	} {
		L.PreloadModule("table."+name, func(L *lua.LState) int {
			f := L.NewFunction(fn)
			if lib != nil {
				lib.RawSetString(name, f)
			}
			L.Push(f)
			return 1
		})
	}
}

// TableNew is LuaJIT's table.new(narr, nrec), the preallocation charged
// to the worker's memory budget ("not enough memory" past it, as LuaJIT
// when the allocation fails).
func TableNew(budget *bind.Budget) lua.LGFunction {
	return func(L *lua.LState) int {
		L.Push(budget.NewTable(L, bind.SizeArg(L, 1, 0), bind.SizeArg(L, 2, 0)))
		return 1
	}
}

// TableClear is LuaJIT's table.clear(t).
func TableClear(L *lua.LState) int {
	t := L.CheckTable(1)
	var keys []lua.LValue
	t.ForEach(func(k, _ lua.LValue) { keys = append(keys, k) })
	for _, k := range keys {
		t.RawSet(k, lua.LNil)
	}
	return 0
}

// tableNkeys is LuaJIT's table.nkeys(t): the number of keys.
func tableNkeys(L *lua.LState) int {
	n := 0
	L.CheckTable(1).ForEach(func(_, _ lua.LValue) { n++ })
	L.Push(lua.LNumber(n))
	return 1
}

// tableIsEmpty is LuaJIT's table.isempty(t).
func tableIsEmpty(L *lua.LState) int {
	k, _ := L.CheckTable(1).Next(lua.LNil)
	L.Push(lua.LBool(k == lua.LNil))
	return 1
}

// tableIsArray is LuaJIT's table.isarray(t): every key a positive integer
// (holes allowed); an empty table is an array.
func tableIsArray(L *lua.LState) int {
	ok := true
	L.CheckTable(1).ForEach(func(k, _ lua.LValue) {
		if n, isNum := k.(lua.LNumber); !isNum || n < 1 || float64(n) != float64(int64(n)) {
			ok = false
		}
	})
	L.Push(lua.LBool(ok))
	return 1
}

// tableClone is LuaJIT's table.clone(t): a shallow copy without metatable.
func tableClone(L *lua.LState) int {
	src := L.CheckTable(1)
	dst := L.CreateTable(src.Len(), 0)
	for k, v := src.Next(lua.LNil); k != lua.LNil; k, v = src.Next(k) {
		dst.RawSet(k, v)
	}
	L.Push(dst)
	return 1
}
