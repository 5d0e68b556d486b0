package luavm

import (
	lua "github.com/yuin/gopher-lua"
)

// concatFn is the function compiled code calls for `a .. b .. c` (see
// Compile): one Go function shared by every state, holding no state.
var concatFn = &lua.LFunction{IsG: true, GFunction: concat, Env: lua.NewState(lua.Options{SkipOpenLibs: true}).NewTable()}

// concat is Lua 5.1's luaV_concat over its arguments: from the right, runs
// of strings and numbers are joined at once (numbers formatted with
// %.14g); a pair with another value goes to the __concat metamethod of the
// left operand, then of the right one.
func concat(L *lua.LState) int {
	n := L.GetTop()
	if n == 2 {
		// the common case, without a scratch slice
		a, b := L.Get(1), L.Get(2)
		if as, ok := a.(lua.LString); ok {
			if bs, ok := b.(lua.LString); ok {
				L.Push(as + bs)
				return 1
			}
		}
	}
	// work in place on the argument slots: total operands remain, the
	// rightmost at index last
	last := n
	for last > 1 {
		rhs, lhs := L.Get(last), L.Get(last-1)
		if !isStringOrNumber(lhs) || !isStringOrNumber(rhs) {
			L.Replace(last-1, concatMeta(L, lhs, rhs))
			last--
			continue
		}
		// collect as many string/number operands as possible
		first := last - 1
		size := len(asString(rhs)) + len(asString(lhs))
		for first > 1 && isStringOrNumber(L.Get(first-1)) {
			first--
			size += len(asString(L.Get(first)))
		}
		buf := make([]byte, 0, size)
		for i := first; i <= last; i++ {
			buf = appendString(buf, L.Get(i))
		}
		L.Replace(first, lua.LString(buf))
		last = first
	}
	L.SetTop(1)
	return 1
}

func isStringOrNumber(v lua.LValue) bool {
	switch v.(type) {
	case lua.LString, lua.LNumber:
		return true
	}
	return false
}

// asString is a string or number operand as concatenation sees it (sizes
// only; appendString formats without the intermediate string).
func asString(v lua.LValue) string {
	if s, ok := v.(lua.LString); ok {
		return string(s)
	}
	return FormatNumber(float64(v.(lua.LNumber)))
}

func appendString(b []byte, v lua.LValue) []byte {
	if s, ok := v.(lua.LString); ok {
		return append(b, s...)
	}
	return AppendNumber(b, float64(v.(lua.LNumber)))
}

// concatMeta runs lhs .. rhs through __concat, or raises Lua 5.1's error
// naming the operand that cannot be concatenated.
func concatMeta(L *lua.LState, lhs, rhs lua.LValue) lua.LValue {
	h := L.GetMetaField(lhs, "__concat")
	if h == lua.LNil {
		h = L.GetMetaField(rhs, "__concat")
	}
	if h == lua.LNil {
		bad := lhs
		if isStringOrNumber(lhs) {
			bad = rhs
		}
		L.RaiseError("attempt to concatenate a %s value", bad.Type().String())
	}
	L.Push(h)
	L.Push(lhs)
	L.Push(rhs)
	L.Call(2, 1)
	v := L.Get(-1)
	L.Pop(1)
	return v
}
