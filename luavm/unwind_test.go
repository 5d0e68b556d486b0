package luavm

import (
	"io"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// An Unwind passes through pcall and xpcall (whose handler does not run)
// and reaches the host's call, which recovers its value.
func TestUnwindIsNotCaught(t *testing.T) {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	OpenLibs(L, io.Discard)
	L.SetGlobal("leave", L.NewFunction(func(L *lua.LState) int {
		Unwind(L, 204)
		return 0
	}))
	L.SetGlobal("caught", lua.LNil)
	fn, cerr := L.LoadString(`local after = 0
		local ok = pcall(function()
			xpcall(function() leave() end, function(e) handled = true; return e end)
		end)
		caught = true`)
	if cerr != nil {
		t.Fatal(cerr)
	}
	L.SetGlobal("handled", lua.LFalse)
	err := CallProtected(L, fn, 0, false)
	v, ok := UnwoundWith(err)
	if !ok || v != 204 {
		t.Fatalf("UnwoundWith(%v) = %v, %v; want 204, true", err, v, ok)
	}
	if L.GetGlobal("caught") != lua.LNil {
		t.Fatal("pcall caught an Unwind")
	}
	if L.GetGlobal("handled") != lua.LFalse {
		t.Fatal("xpcall's handler saw an Unwind")
	}
	// an ordinary error is not an Unwind
	err = CallProtected(L, L.NewFunction(func(L *lua.LState) int { L.RaiseError("boom"); return 0 }), 0, false)
	if _, ok := UnwoundWith(err); ok || err == nil {
		t.Fatalf("plain error: %v", err)
	}
}
