package luavm

import (
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// gopher-lua's OP_CONCAT formats numbers with Go's %v (1795497432.539 ..
// "" is "1.795497432539e+09", 0.1 + 0.2 .. "" is "0.30000000000000004").
// luavm replaces the instruction's handler, for every state of the process,
// with Lua 5.1's concatenation. Measured against the alternatives
// (BenchmarkStringBuilding): a compile-time rewrite of `..` into a call of a
// Go function cost 15–20 % on string-building handlers; the replaced
// handler costs nothing over gopher-lua's own.
func init() {
	if internalsErr != nil {
		return
	}
	gopherConcat = jumpTable[lua.OP_CONCAT]
	jumpTable[lua.OP_CONCAT] = concatOp
}

// gopherConcat is gopher-lua's own handler (benchmarks compare with it).
var gopherConcat instFunc

// concatOp executes OP_CONCAT A B C: R(A) := R(B) .. ... .. R(C).
func concatOp(L *lua.LState, inst uint32, _ unsafe.Pointer) int {
	lbase := localBase(L)
	a := lbase + int(inst>>18)&0xff
	b := lbase + int(inst&0x1ff)
	c := lbase + int(inst>>9)&0x1ff
	var scratch [8]lua.LValue
	vals := scratch[:0]
	vals = append(vals, regArray(L)[b:c+1]...)
	v := concatValues(L, vals)
	// metamethods may have grown the stack: fetch the array again
	arr := regArray(L)
	if a >= len(arr) {
		L.RaiseError("luavm: concat target register %d out of the stack (%d)", a, len(arr))
	}
	arr[a] = v
	if a >= regTop(L) {
		setRegTop(L, a+1)
	}
	return 0
}

// concatValues is Lua 5.1's luaV_concat over vals (which it overwrites):
// from the right, runs of strings and numbers are joined at once (numbers
// formatted with %.14g); a pair with another value goes to the __concat
// metamethod of the left operand, else of the right one.
func concatValues(L *lua.LState, vals []lua.LValue) lua.LValue {
	if len(vals) == 2 {
		// the common case, without a scratch buffer
		if as, ok := vals[0].(lua.LString); ok {
			if bs, ok := vals[1].(lua.LString); ok {
				return as + bs
			}
		}
	}
	last := len(vals) - 1
	for last > 0 {
		lhs, rhs := vals[last-1], vals[last]
		if !isStringOrNumber(lhs) || !isStringOrNumber(rhs) {
			vals[last-1] = concatMeta(L, lhs, rhs)
			last--
			continue
		}
		// as many string/number operands as possible, joined at once
		first := last - 1
		size := stringSize(lhs) + stringSize(rhs)
		for first > 0 && isStringOrNumber(vals[first-1]) {
			first--
			size += stringSize(vals[first])
		}
		buf := make([]byte, 0, size)
		for i := first; i <= last; i++ {
			buf = appendString(buf, vals[i])
		}
		vals[first] = lua.LString(buf)
		last = first
	}
	return vals[0]
}

func isStringOrNumber(v lua.LValue) bool {
	switch v.(type) {
	case lua.LString, lua.LNumber:
		return true
	}
	return false
}

// stringSize is the length of a string operand, or a bound for a number's.
func stringSize(v lua.LValue) int {
	if s, ok := v.(lua.LString); ok {
		return len(s)
	}
	return 24
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
	return call1(L, h, lhs, rhs)
}

// call1 is fn(args...) with one result, unprotected (errors propagate).
func call1(L *lua.LState, fn lua.LValue, args ...lua.LValue) lua.LValue {
	L.Push(fn)
	for _, a := range args {
		L.Push(a)
	}
	L.Call(len(args), 1)
	v := L.Get(-1)
	L.Pop(1)
	return v
}
