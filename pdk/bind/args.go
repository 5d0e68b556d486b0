package bind

import (
	"math"
	"strconv"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
)

// Argument checks that gopher-lua's auxlib lacks, with the messages PUC
// Lua's lauxlib and OpenResty give (luavm.CheckString is luaL_checkstring).

// CheckUserData is argument n as a userdata holding a T (a client, a
// digest, a dict: the self of a method), raising gopher-lua's "userdata
// expected" for a non-userdata and ArgError(n, what) for another userdata.
func CheckUserData[T any](L *lua.LState, n int, what string) T {
	if v, ok := L.CheckUserData(n).Value.(T); ok {
		return v
	}
	L.ArgError(n, what)
	var zero T
	return zero
}

// TestUserData is argument n's T when it is a userdata holding one
// (luaL_testudata), for checks whose message names the argument's type.
func TestUserData[T any](L *lua.LState, n int) (T, bool) {
	if ud, ok := L.Get(n).(*lua.LUserData); ok {
		if v, ok := ud.Value.(T); ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

// ArgError raises Lua's "bad argument #n to 'fname' (msg)", located at the
// caller: gopher-lua's own ArgError leaves the quotes out.
func ArgError(L *lua.LState, n int, fname, msg string) {
	L.RaiseError("bad argument #%d to '%s' (%s)", n, fname, msg)
}

// OptString is argument n as a string the way ngx's functions read one:
// nil (or none) is "", numbers are converted, anything else raises.
func OptString(L *lua.LState, n int) string {
	if L.Get(n) == lua.LNil {
		return ""
	}
	return luavm.CheckString(L, n)
}

// Fail returns nil and msg to Lua: the "nil, err" of a call that failed
// on its data rather than on its arguments.
func Fail(L *lua.LState, msg string) int {
	L.Push(lua.LNil)
	L.Push(lua.LString(msg))
	return 2
}

// SizeArg is argument n as an allocation count: nil (or none) is def; a
// number is truncated toward zero and clamped to int64 (NaN is
// math.MinInt64: no valid size). Non-numbers raise as CheckInt.
func SizeArg(L *lua.LState, n int, def int64) int64 {
	if L.Get(n) == lua.LNil {
		return def
	}
	return ClampSize(float64(L.CheckNumber(n)))
}

// ClampSize is f truncated toward zero and clamped to int64, NaN being
// math.MinInt64: a size the budget never accepts.
func ClampSize(f float64) int64 {
	switch {
	case f != f || f <= math.MinInt64:
		return math.MinInt64
	case f >= math.MaxInt64:
		return math.MaxInt64
	}
	return int64(f)
}

// RaiseAtCaller raises msg located at the Lua code that called the
// binding: Lua's error(msg, 2), which is how Kong's PDK reports a bad
// argument ("key must be a string").
func RaiseAtCaller(L *lua.LState, msg string) {
	if dbg, ok := L.GetStack(1); ok {
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err == nil && dbg.CurrentLine > 0 {
			msg = dbg.Source + ":" + strconv.Itoa(dbg.CurrentLine) + ": " + msg
		}
	}
	L.Error(lua.LString(msg), 0)
}

// NewUserData is a userdata holding v with metatable mt: a client, a
// digest, a dict as its methods' self (CheckUserData reads it back).
func NewUserData(L *lua.LState, v any, mt lua.LValue) *lua.LUserData {
	ud := L.NewUserData()
	ud.Value = v
	ud.Metatable = mt
	return ud
}
