package luavm

import (
	"fmt"
	"reflect"

	lua "github.com/yuin/gopher-lua"
)

// Building a string-keyed table in one go. gopher-lua's RawSetString boxes
// the key into an LValue twice per call (for its key list and its key ->
// position map) and grows both one key at a time, so a 6-field entity cost
// about 20 allocations. NewRecord fills the three parts of the hash
// (LTable.strdict, keys, k2i) at their final size, with keys the caller
// boxed once and shares between tables: the table is the same as
// RawSetString would have left it (pairs visits the keys in the order
// given).
//
// The fields are reached through offsets checked by reflection at start-up
// (checkTableInternals); an upgrade that renames or retypes them makes
// Internals() fail, as for the LState fields (internals.go).

var (
	offStrdict uintptr
	offKeys    uintptr
	offK2i     uintptr
)

func checkTableInternals() error {
	tt := reflect.TypeOf(lua.LTable{})
	lv := reflect.TypeOf((*lua.LValue)(nil)).Elem()
	f, ok := tt.FieldByName("strdict")
	if !ok || f.Type != reflect.TypeOf(map[string]lua.LValue(nil)) {
		return fmt.Errorf("luavm: gopher-lua's LTable has no map[string]LValue field strdict (upgraded?)")
	}
	offStrdict = f.Offset
	f, ok = tt.FieldByName("keys")
	if !ok || f.Type.Kind() != reflect.Slice || f.Type.Elem() != lv {
		return fmt.Errorf("luavm: gopher-lua's LTable has no []LValue field keys (upgraded?)")
	}
	offKeys = f.Offset
	f, ok = tt.FieldByName("k2i")
	if !ok || f.Type.Kind() != reflect.Map || f.Type.Key() != lv || f.Type.Elem().Kind() != reflect.Int {
		return fmt.Errorf("luavm: gopher-lua's LTable has no map[LValue]int field k2i (upgraded?)")
	}
	offK2i = f.Offset
	return nil
}

// NewRecord returns a table whose hash part holds names[i] = vals[i] for
// every i with a non-nil value, in that order; keys[i] must be
// lua.LString(names[i]) as an LValue (box it once and reuse it: that is
// the saving). The names must be distinct.
func NewRecord(names []string, keys []lua.LValue, vals []lua.LValue) *lua.LTable {
	if internalsErr != nil {
		t := &lua.LTable{Metatable: lua.LNil}
		for i, name := range names {
			if vals[i] != nil {
				t.RawSetString(name, vals[i])
			}
		}
		return t
	}
	n := 0
	for _, v := range vals {
		if v != nil && v != lua.LNil {
			n++
		}
	}
	if n == 0 {
		return &lua.LTable{Metatable: lua.LNil}
	}
	t, ks := newRecordTable(n)
	strdict := make(map[string]lua.LValue, n)
	k2i := make(map[lua.LValue]int, n)
	for i, v := range vals {
		if v == nil || v == lua.LNil {
			continue
		}
		strdict[names[i]] = v
		k2i[keys[i]] = len(ks)
		ks = append(ks, keys[i])
	}
	*tStrdict(t), *tKeys(t), *tK2i(t) = strdict, ks, k2i
	return t
}

// A record's table and its key list in one allocation, for the sizes
// rows have (a key list longer than its array grows apart, as any slice).
type record4 struct {
	t  lua.LTable
	ks [4]lua.LValue
}

type record8 struct {
	t  lua.LTable
	ks [8]lua.LValue
}

// newRecordTable returns an empty table and a key list of capacity n
// (at least), together when n is small.
func newRecordTable(n int) (*lua.LTable, []lua.LValue) {
	switch {
	case n <= 4:
		r := &record4{t: lua.LTable{Metatable: lua.LNil}}
		return &r.t, r.ks[:0]
	case n <= 8:
		r := &record8{t: lua.LTable{Metatable: lua.LNil}}
		return &r.t, r.ks[:0]
	}
	return &lua.LTable{Metatable: lua.LNil}, make([]lua.LValue, 0, n)
}
