package luavm

import (
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// Tables the host makes on every request (ngx.ctx and the few tables
// inside it) get string keys Go knows in advance. gopher-lua's
// RawSetString, on a key new to a table, boxes the key into an LValue for
// the table's insertion-ordered key list (an allocation per key) and
// grows that list and its index map from nothing (one allocation each on
// the first string key, more as they double). Key holds the boxed key,
// made once (an LString is immutable: one Key serves every state), and
// NewSizedTable makes the key list and its index at their final capacity,
// so that SetKey fills a table without allocating.
//
// The table SetKey leaves is the one RawSetString would: same strdict,
// same key order (pairs and next follow insertion order), the same value
// kept in the key list; later writes and deletes by Lua or Go behave as on
// any table. LTable's strdict, keys and k2i fields are reached through
// their offsets, checked by name and type at start-up (checkTableInternals,
// table_build.go); when they are not
// where expected (a gopher-lua upgrade), NewSizedTable is CreateTable and
// SetKey is RawSetString (slower, same tables), and TableInternals says
// why.

// Key is a string key boxed once.
type Key struct {
	s string
	v lua.LValue // lua.LString(s)
}

// NewKey boxes s.
func NewKey(s string) Key { return Key{s: s, v: lua.LString(s)} }

// String is the key.
func (k Key) String() string { return k.s }

// Value is the key as a Lua string.
func (k Key) Value() lua.LValue { return k.v }

// TableInternals reports whether NewSizedTable and SetKey reach LTable's
// fields (nil), or why they fall back to gopher-lua's API.
func TableInternals() error { return internalsErr }

func tStrdict(t *lua.LTable) *map[string]lua.LValue {
	return (*map[string]lua.LValue)(unsafe.Add(unsafe.Pointer(t), offStrdict))
}

func tKeys(t *lua.LTable) *[]lua.LValue {
	return (*[]lua.LValue)(unsafe.Add(unsafe.Pointer(t), offKeys))
}

func tK2i(t *lua.LTable) *map[lua.LValue]int {
	return (*map[lua.LValue]int)(unsafe.Add(unsafe.Pointer(t), offK2i))
}

// NewSizedTable is L.CreateTable(acap, hcap) whose hash part also has its
// key list and index made for hcap keys: the first hcap string keys SetKey
// adds allocate nothing (RawSetString would make them on its first key,
// growing them as they fill). With hcap 0 it is CreateTable.
func NewSizedTable(L *lua.LState, acap, hcap int) *lua.LTable {
	t := L.CreateTable(acap, hcap)
	if hcap > 0 && internalsErr == nil {
		*tKeys(t) = make([]lua.LValue, 0, hcap)
		*tK2i(t) = make(map[lua.LValue]int, hcap)
	}
	return t
}

// SetKey is t.RawSetString(k.String(), v) with the key boxed already: the
// same table results, without the allocation of a key new to t.
func SetKey(t *lua.LTable, k Key, v lua.LValue) {
	if internalsErr != nil {
		t.RawSetString(k.s, v)
		return
	}
	sd, keys, k2i := tStrdict(t), tKeys(t), tK2i(t)
	if *sd == nil || *keys == nil {
		// a table RawSetString has not prepared yet: let it (rare: a table
		// not made by NewSizedTable)
		t.RawSetString(k.s, v)
		return
	}
	if v == lua.LNil {
		// as RawSetString: the key stays in the key list
		delete(*sd, k.s)
		return
	}
	(*sd)[k.s] = v
	if _, ok := (*k2i)[k.v]; !ok {
		(*k2i)[k.v] = len(*keys)
		*keys = append(*keys, k.v)
	}
}
