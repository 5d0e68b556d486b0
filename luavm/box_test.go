package luavm

import (
	"math"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func TestBoxesShared(t *testing.T) {
	if !BoxesShared() {
		t.Fatal("LValueOf and AnyOf fall back to plain conversions")
	}
	str := string([]byte("6e3bd0a4-9a7e-4b43-9dbb-1e7d2f0f8a11"))
	for _, v := range []any{str, "", 0.0, -1.5, math.Inf(1), 1733370000.0} {
		lv, ok := LValueOf(v)
		if !ok {
			t.Fatalf("LValueOf(%v): not converted", v)
		}
		var want lua.LValue
		switch x := v.(type) {
		case string:
			want = lua.LString(x)
		case float64:
			want = lua.LNumber(x)
		}
		if lv != want || lv.Type() != want.Type() || lv.String() != want.String() {
			t.Errorf("LValueOf(%#v) = %#v, want %#v", v, lv, want)
		}
		back, ok := AnyOf(lv)
		if !ok || back != v {
			t.Errorf("AnyOf(LValueOf(%#v)) = %#v", v, back)
		}
		// a shared box works as a table key like a plain one
		tb := &lua.LTable{}
		tb.RawSetH(lv, lua.LTrue)
		if tb.RawGetH(want) != lua.LTrue {
			t.Errorf("%#v: key not found by its plain box", v)
		}
	}
	for _, v := range []any{nil, true, 1, int64(1), []byte("x"), map[string]any{}} {
		if _, ok := LValueOf(v); ok {
			t.Errorf("LValueOf(%#v) converted", v)
		}
	}
	for _, lv := range []lua.LValue{nil, lua.LNil, lua.LTrue, &lua.LTable{}} {
		if _, ok := AnyOf(lv); ok {
			t.Errorf("AnyOf(%#v) converted", lv)
		}
	}
	v := any(str)
	if n := testing.AllocsPerRun(100, func() {
		lv, _ := LValueOf(v)
		_, _ = AnyOf(lv)
	}); n != 0 {
		t.Errorf("LValueOf and AnyOf allocate %v times", n)
	}
}
