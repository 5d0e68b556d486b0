package luavm

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// A string asked for again comes back boxed once, without allocating; one
// over maxLen is boxed each time; the table empties itself at limit.
func TestStringsInterned(t *testing.T) {
	var s Strings
	b := []byte("x-api-token-value")
	first := s.Get(b, 4, 64)
	if first != lua.LValue(lua.LString("x-api-token-value")) {
		t.Fatalf("got %v", first)
	}
	if n := testing.AllocsPerRun(100, func() { stringsSink = s.Get(b, 4, 64) }); n != 0 {
		t.Fatalf("interned string: %.1f allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { stringsSink = s.Get(b, 4, 8) }); n == 0 {
		t.Fatal("a string over maxLen was interned")
	}
	for _, k := range []string{"a", "b", "c", "d"} {
		s.Get([]byte(k), 4, 64)
	}
	if len(s) > 4 {
		t.Fatalf("%d strings kept, limit 4", len(s))
	}
}

var stringsSink lua.LValue
