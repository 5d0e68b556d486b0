package luavm

import (
	"fmt"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// NewRecord leaves the table RawSetString would have: same values, same
// pairs order, next from any key, and later writes (new keys, removals)
// behave the same, from Go and from Lua.
func TestNewRecordIsRawSetString(t *testing.T) {
	L := NewState(Options{})
	defer L.Close()
	names := []string{"id", "created_at", "consumer", "key", "tags", "ttl"}
	keys := make([]lua.LValue, len(names))
	for i, n := range names {
		keys[i] = lua.LString(n)
	}
	vals := []lua.LValue{lua.LString("a-b"), lua.LNumber(17), L.NewTable(), lua.LString("k"), nil, lua.LNil}
	got := NewRecord(names, keys, vals)
	want := L.NewTable()
	for i, n := range names {
		if vals[i] != nil {
			want.RawSetString(n, vals[i])
		}
	}
	dump := func(tb *lua.LTable) string {
		out := ""
		for k, v := tb.Next(lua.LNil); k != lua.LNil; k, v = tb.Next(k) {
			out += fmt.Sprintf("%v=%v ", k, v.Type())
		}
		return out
	}
	if g, w := dump(got), dump(want); g != w || g != "id=string created_at=number consumer=table key=string " {
		t.Fatalf("pairs: got %q, want %q", g, w)
	}
	L.SetGlobal("t", got)
	if err := L.DoString(`
		assert(t.id == "a-b" and t.created_at == 17 and t.key == "k" and t.tags == nil)
		local n = 0 for k, v in pairs(t) do n = n + 1 end assert(n == 4, n)
		t.key = nil t.extra = 1 t[1] = "x"
		local seen = {} for k in pairs(t) do seen[#seen + 1] = tostring(k) end
		assert(table.concat(seen, ",") == "1,id,created_at,consumer,extra", table.concat(seen, ","))
		assert(next(t, "consumer") == "extra")
	`); err != nil {
		t.Fatal(err)
	}
	if empty := NewRecord(nil, nil, nil); empty.Len() != 0 || dump(empty) != "" {
		t.Fatal("an empty record is not empty")
	}
}
