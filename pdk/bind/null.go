package bind

import lua "github.com/yuin/gopher-lua"

// nullKey is the registry key of a state's ngx.null.
const nullKey = "luahost.null"

// Null returns the state's ngx.null: one userdata per state, compared by
// identity (lua-cjson's and ngx's null is a lightuserdata NULL).
func Null(L *lua.LState) *lua.LUserData {
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	if ud, ok := reg.RawGetString(nullKey).(*lua.LUserData); ok {
		return ud
	}
	ud := L.NewUserData()
	ud.Value = nullValue{}
	mt := L.NewTable()
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("userdata: NULL"))
		return 1
	}))
	mt.RawSetString("__metatable", lua.LFalse)
	ud.Metatable = mt
	reg.RawSetString(nullKey, ud)
	return ud
}

type nullValue struct{}

// IsNull reports whether v is a state's ngx.null.
func IsNull(v lua.LValue) bool {
	ud, ok := v.(*lua.LUserData)
	if !ok {
		return false
	}
	_, ok = ud.Value.(nullValue)
	return ok
}
