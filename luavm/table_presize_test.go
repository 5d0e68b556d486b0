package luavm

import (
	"fmt"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func TestTableInternals(t *testing.T) {
	if err := TableInternals(); err != nil {
		t.Fatal(err)
	}
}

// dumpTable walks t with next from Lua, as a plugin's pairs would, after
// the Lua in then has run on it.
func dumpTable(t *testing.T, L *lua.LState, tb *lua.LTable, then string) string {
	t.Helper()
	L.SetGlobal("T", tb)
	src := then + `
local out = {}
local k, v = next(T)
while k ~= nil do
  out[#out+1] = tostring(k) .. "=" .. tostring(v)
  k, v = next(T, k)
end
OUT = table.concat(out, ",") .. "|" .. tostring(rawget(T, "b")) .. "|" .. tostring(T.zz)`
	if err := L.DoString(src); err != nil {
		t.Fatal(err)
	}
	return L.GetGlobal("OUT").String()
}

// TestSetKeyAsRawSetString: a table filled by NewSizedTable and SetKey is
// the one CreateTable and RawSetString make, for Lua (pairs order through
// next, rawget) and for later writes and deletes, from Go and from Lua,
// including more keys than the table was sized for.
func TestSetKeyAsRawSetString(t *testing.T) {
	L := NewState(Options{})
	defer L.Close()
	type op struct {
		k string
		v lua.LValue
	}
	nested := L.NewTable()
	L.SetGlobal("KEY", L.NewTable())
	cases := [][]op{
		{{"a", lua.LNumber(1)}, {"b", lua.LString("x")}, {"c", lua.LTrue}},
		{{"a", lua.LNumber(1)}, {"b", lua.LNil}, {"c", nested}, {"b", lua.LNumber(2)}},
		{{"b", lua.LNumber(1)}, {"a", lua.LNumber(2)}, {"a", lua.LNil}, {"a", lua.LNumber(3)}},
		{{"a", lua.LNumber(1)}, {"b", lua.LNumber(2)}, {"a", lua.LNil}, {"c", lua.LNumber(3)}, {"a", lua.LNumber(4)}},
		{{"a", lua.LNumber(1)}, {"b", lua.LNumber(2)}, {"c", lua.LNumber(3)}, {"a", lua.LNumber(5)}},
		{{"x", lua.LNil}},
		{},
	}
	for i := 0; i < 12; i++ { // past the sized capacity
		cases[0] = append(cases[0], op{fmt.Sprintf("k%d", i), lua.LNumber(i)})
	}
	thens := []string{
		"",
		"T.zz = 1; T.a = nil",
		"T[1] = 'one'; T.b = nil; T.new = 2; T.b = 3",
		"for k in pairs(T) do T[k] = nil end; T.zz = 'again'",
		"T[KEY] = 1; T[2.5] = 'f'",
	}
	for ci, ops := range cases {
		for ti, then := range thens {
			want := L.CreateTable(0, 4)
			for _, o := range ops {
				want.RawSetString(o.k, o.v)
			}
			got := NewSizedTable(L, 0, 4)
			for _, o := range ops {
				SetKey(got, NewKey(o.k), o.v)
			}
			// a Go write after the fill, as the host's later phases do
			want.RawSetString("late", lua.LString("v"))
			SetKey(got, NewKey("late"), lua.LString("v"))
			w, g := dumpTable(t, L, want, then), dumpTable(t, L, got, then)
			// tables print as addresses: the same nested table is the same
			if w != g {
				t.Errorf("case %d, then %q:\nRawSetString: %s\nSetKey:       %s", ci, then, w, g)
			}
			if ci == 0 && ti == 0 && !strings.HasPrefix(g, "a=1,b=x,c=true,k0=0") {
				t.Errorf("order: %s", g)
			}
		}
	}
	// a table not made by NewSizedTable
	plain := L.NewTable()
	SetKey(plain, NewKey("p"), lua.LNumber(1))
	if plain.RawGetString("p") != lua.LNumber(1) {
		t.Error("SetKey on a plain table")
	}
}

// TestSetKeyAllocs pins the point of SetKey: filling a sized table with
// known keys allocates the table and its maps, nothing per key.
func TestSetKeyAllocs(t *testing.T) {
	L := NewState(Options{})
	defer L.Close()
	keys := []Key{NewKey("KONG_PHASE"), NewKey("route"), NewKey("service"), NewKey("workspace"),
		NewKey("router_matches"), NewKey("plugin_id"), NewKey("authenticated_consumer"), NewKey("authenticated_credential")}
	v := lua.LValue(lua.LNumber(1))
	n := testing.AllocsPerRun(100, func() {
		tb := NewSizedTable(L, 0, 12)
		for _, k := range keys {
			SetKey(tb, k, v)
		}
	})
	// the LTable, strdict, keys and k2i (a Go map sized for more than 8
	// entries is three allocations); RawSetString makes 26
	if n > 10 {
		t.Errorf("%v allocations for a sized table of %d keys", n, len(keys))
	}
	base := testing.AllocsPerRun(100, func() {
		tb := L.CreateTable(0, 12)
		for _, k := range keys {
			tb.RawSetString(k.String(), v)
		}
	})
	t.Logf("SetKey: %v allocs, RawSetString: %v allocs", n, base)
}

// TestTypeAllocs: type() answers with a name boxed once.
func TestTypeAllocs(t *testing.T) {
	L := NewState(Options{})
	defer L.Close()
	if err := L.DoString(`function f(x) local n = 0; for i = 1, 100 do if type(x) == "string" then n = n + 1 end end; return type(x) end`); err != nil {
		t.Fatal(err)
	}
	f := L.GetGlobal("f")
	for _, v := range []lua.LValue{lua.LString("s"), lua.LNumber(1), lua.LNil, L.NewTable(), lua.LTrue} {
		n := testing.AllocsPerRun(20, func() {
			if err := L.CallByParam(lua.P{Fn: f, NRet: 1, Protect: true}, v); err != nil {
				t.Fatal(err)
			}
			L.Pop(1)
		})
		if n > 0 {
			t.Errorf("type(%s): %v allocations per 100 calls", v.Type(), n)
		}
		if err := L.CallByParam(lua.P{Fn: f, NRet: 1, Protect: true}, v); err != nil || L.Get(-1).String() != v.Type().String() {
			t.Errorf("type(%s) = %v, %v", v.Type(), L.Get(-1), err)
		}
		L.Pop(1)
	}
}
