package luavm

import (
	lua "github.com/yuin/gopher-lua"
)

// unwinding is the value an Unwind raises: not an error, a request to end
// the whole call the host made (OpenResty's ngx.exit, which ends the
// handler whatever pcall it is inside).
type unwinding struct{ value any }

// Unwind ends the host's current call from inside Lua: it raises a value
// pcall and xpcall do not catch (they re-raise it, as they re-raise a
// fired deadline), and the host's protected call returns an error from
// which UnwoundWith recovers v. The frames unwound close their upvalues as
// for any error.
func Unwind(L *lua.LState, v any) {
	ud := L.NewUserData()
	ud.Value = &unwinding{value: v}
	L.Error(ud, 0)
}

// UnwoundWith reports whether err is a call ended by Unwind, and with what
// value.
func UnwoundWith(err error) (any, bool) {
	if ae, ok := err.(*lua.ApiError); ok {
		if u, ok := isUnwinding(ae.Object); ok {
			return u.value, true
		}
	}
	return nil, false
}

func isUnwinding(v lua.LValue) (*unwinding, bool) {
	if ud, ok := v.(*lua.LUserData); ok {
		if u, ok := ud.Value.(*unwinding); ok {
			return u, true
		}
	}
	return nil, false
}
