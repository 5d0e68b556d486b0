package bind

import (
	"math"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

type thing struct{ n int }

// call runs fn as a Lua function with args and returns its results or
// its error message.
func call(t *testing.T, fn lua.LGFunction, args ...lua.LValue) ([]lua.LValue, string) {
	t.Helper()
	L := lua.NewState()
	defer L.Close()
	L.Push(L.NewFunction(fn))
	for _, a := range args {
		L.Push(a)
	}
	if err := L.PCall(len(args), lua.MultRet, nil); err != nil {
		return nil, err.Error()
	}
	out := []lua.LValue{}
	for i := 1; i <= L.GetTop(); i++ {
		out = append(out, L.Get(i))
	}
	return out, ""
}

func TestCheckUserData(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	mt := L.NewTable()
	ud := NewUserData(L, &thing{7}, mt)
	if ud.Metatable != mt {
		t.Error("NewUserData: metatable")
	}
	other := L.NewUserData()
	other.Value = "x"
	check := func(L *lua.LState) int {
		L.Push(lua.LNumber(CheckUserData[*thing](L, 1, "thing expected").n))
		return 1
	}
	if out, err := call(t, check, ud); err != "" || out[0] != lua.LNumber(7) {
		t.Errorf("a thing: %v %q", out, err)
	}
	if _, err := call(t, check, other); !strings.Contains(err, "bad argument #1") || !strings.Contains(err, "thing expected") {
		t.Errorf("another userdata: %q", err)
	}
	if _, err := call(t, check, lua.LString("s")); !strings.Contains(err, "userdata expected, got string") {
		t.Errorf("a string: %q", err)
	}
	if v, ok := TestUserData[*thing](L, 1); ok || v != nil {
		t.Errorf("empty stack: %v %v", v, ok)
	}
}

func TestFailAndArgError(t *testing.T) {
	out, err := call(t, func(L *lua.LState) int { return Fail(L, "not found") })
	if err != "" || len(out) != 2 || out[0] != lua.LNil || out[1] != lua.LString("not found") {
		t.Errorf("Fail: %v %q", out, err)
	}
	_, err = call(t, func(L *lua.LState) int { ArgError(L, 2, "log", "bad level"); return 0 })
	if !strings.Contains(err, "bad argument #2 to 'log' (bad level)") {
		t.Errorf("ArgError: %q", err)
	}
}

func TestSizes(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want int64
	}{{3.9, 3}, {-2.5, -2}, {math.NaN(), math.MinInt64}, {1e300, math.MaxInt64}, {-1e300, math.MinInt64}} {
		if got := ClampSize(c.f); got != c.want {
			t.Errorf("ClampSize(%v) = %d, want %d", c.f, got, c.want)
		}
	}
	if MulSize(-1, 8) != -1 || MulSize(math.MaxInt64/2, 4) != -1 || MulSize(3, 8) != 24 {
		t.Error("MulSize")
	}
	out, err := call(t, func(L *lua.LState) int {
		L.Push(lua.LNumber(SizeArg(L, 1, 5)))
		L.Push(lua.LNumber(SizeArg(L, 2, 5)))
		return 2
	}, lua.LNil, lua.LNumber(9.5))
	if err != "" || out[0] != lua.LNumber(5) || out[1] != lua.LNumber(9) {
		t.Errorf("SizeArg: %v %q", out, err)
	}
}

// The budget charges what fits, refuses what does not (and negative
// sizes), ignores allocations below its grain, and starts again on Reset.
func TestBudget(t *testing.T) {
	b := NewBudget(func() int64 { return 1 << 20 })
	if !b.Fits(100) || b.Left() != 1<<20 {
		t.Fatalf("below the grain: left %d", b.Left())
	}
	if !b.Fits(600<<10) || b.Fits(600<<10) || b.Fits(-1) {
		t.Fatal("charging")
	}
	if b.Left() != (1<<20)-(600<<10) {
		t.Fatalf("left %d", b.Left())
	}
	b.Reset()
	if b.Left() != 1<<20 {
		t.Fatalf("after Reset: left %d", b.Left())
	}
	var none *Budget
	if !none.Fits(1<<40) || none.Left() != DefaultMemoryBudget {
		t.Fatal("a nil budget refuses nothing")
	}
	_, err := call(t, func(L *lua.LState) int { b.NewTable(L, 1<<40, 0); return 0 })
	if !strings.Contains(err, ErrNoMemory) {
		t.Errorf("NewTable past the budget: %q", err)
	}
}

// RaiseAtCaller places the message at the Lua line that called the
// binding, as error(msg, 2) does.
func TestRaiseAtCaller(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	L.SetGlobal("f", L.NewFunction(func(L *lua.LState) int { RaiseAtCaller(L, "key must be a string"); return 0 }))
	fn, err := L.Load(strings.NewReader("local x = 1\nf()"), "plugin.lua")
	if err != nil {
		t.Fatal(err)
	}
	L.Push(fn)
	err = L.PCall(0, 0, nil)
	if err == nil || !strings.Contains(err.Error(), "plugin.lua:2: key must be a string") {
		t.Errorf("got %v", err)
	}
}
