package luavm

import (
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// Values shared between Go's any and Lua's LValue without boxing again.
// An any holding a string and an LValue holding an LString both point at
// a string header (two words) the conversion allocated; an any holding a
// float64 and an LValue holding an LNumber both point at eight bytes. The
// header or number is immutable once boxed, so the one box can serve
// both: the interface words differ only in their first word (the any's
// type, the LValue's itab). A row decoded into the value model and then
// given to Lua costs one box per string or number instead of two, and a
// Lua string argument reaches the Go DAO without a new box.
//
// The two words are the runtime's layout of interfaces; boxesOK checks at
// start-up that a value goes both ways intact, and when it does not the
// functions below box as a plain conversion does.

type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

type iface struct {
	tab  unsafe.Pointer
	data unsafe.Pointer
}

var (
	typString, typFloat64  unsafe.Pointer // the any type words of string, float64
	tabLString, tabLNumber unsafe.Pointer // the LValue itab words of LString, LNumber
	boxesOK                bool
)

func init() {
	var s, f any = "", 0.0
	typString, typFloat64 = (*eface)(unsafe.Pointer(&s)).typ, (*eface)(unsafe.Pointer(&f)).typ
	var ls, ln lua.LValue = lua.LString(""), lua.LNumber(0)
	tabLString, tabLNumber = (*iface)(unsafe.Pointer(&ls)).tab, (*iface)(unsafe.Pointer(&ln)).tab
	boxesOK = checkBoxes()
}

// checkBoxes converts a string and a number each way, sharing their
// boxes, and compares them with plain conversions.
func checkBoxes() bool {
	str := string([]byte("luavm box check"))
	if ls, ok := sharedLValue(any(str)); !ok || ls != lua.LValue(lua.LString(str)) || ls.Type() != lua.LTString {
		return false
	}
	if ln, ok := sharedLValue(any(2.5)); !ok || ln != lua.LValue(lua.LNumber(2.5)) || ln.Type() != lua.LTNumber {
		return false
	}
	if v, ok := sharedAny(lua.LString(str)); !ok || v != any(str) {
		return false
	}
	if v, ok := sharedAny(lua.LNumber(2.5)); !ok || v != any(2.5) {
		return false
	}
	return true
}

// LValueOf returns v as an LString or LNumber when it holds a string or a
// float64, sharing v's box; ok is false for any other v.
func LValueOf(v any) (lua.LValue, bool) {
	if boxesOK {
		return sharedLValue(v)
	}
	switch x := v.(type) {
	case string:
		return lua.LString(x), true
	case float64:
		return lua.LNumber(x), true
	}
	return nil, false
}

// AnyOf returns lv as a string or a float64 when it is an LString or an
// LNumber, sharing lv's box; ok is false for any other lv.
func AnyOf(lv lua.LValue) (any, bool) {
	if boxesOK {
		return sharedAny(lv)
	}
	switch x := lv.(type) {
	case lua.LString:
		return string(x), true
	case lua.LNumber:
		return float64(x), true
	}
	return nil, false
}

func sharedLValue(v any) (lv lua.LValue, ok bool) {
	e := (*eface)(unsafe.Pointer(&v))
	var tab unsafe.Pointer
	switch e.typ {
	case nil:
		return nil, false
	case typString:
		tab = tabLString
	case typFloat64:
		tab = tabLNumber
	default:
		return nil, false
	}
	i := (*iface)(unsafe.Pointer(&lv))
	i.tab, i.data = tab, e.data
	return lv, true
}

func sharedAny(lv lua.LValue) (v any, ok bool) {
	i := (*iface)(unsafe.Pointer(&lv))
	var typ unsafe.Pointer
	switch i.tab {
	case nil:
		return nil, false
	case tabLString:
		typ = typString
	case tabLNumber:
		typ = typFloat64
	default:
		return nil, false
	}
	e := (*eface)(unsafe.Pointer(&v))
	e.typ, e.data = typ, i.data
	return v, true
}

// BoxesShared reports whether LValueOf and AnyOf share boxes (true) or
// fall back to plain conversions.
func BoxesShared() bool { return boxesOK }
