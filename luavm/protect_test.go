package luavm

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

func TestInternals(t *testing.T) {
	if err := Internals(); err != nil {
		t.Fatal(err)
	}
	L := NewState(Options{})
	defer L.Close()
	if !errorFuncFlag(L) {
		t.Fatal("OpenLibs left hasErrorFunc unset")
	}
	top := regTop(L)
	L.Push(lua.LNumber(1))
	L.Push(lua.LNumber(2))
	if got := regTop(L); got != top+2 {
		t.Fatalf("regTop after two pushes = %d, want %d", got, top+2)
	}
}

// run compiles and runs src in a fresh state, returning what it printed.
func run(t *testing.T, src string) string {
	t.Helper()
	var out bytes.Buffer
	L := NewState(Options{Stdout: &out})
	defer L.Close()
	proto, err := Compile("test.lua", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	L.Push(L.NewFunctionFromProto(proto))
	if err := PCall(L, 0, 0, false); err != nil {
		t.Fatalf("%v\noutput so far:\n%s", err, out.String())
	}
	return out.String()
}

func TestUpvaluesAfterCaughtError(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"issue snippet", `
local status = "success"
local function set() status = "failure" end
pcall(error, "x")
set()
print(status)`, "failure\n"},
		{"runtime error", `
local n = 0
local function inc() n = n + 1 end
pcall(function() local x = nil; return x.y end)
inc(); inc()
print(n)`, "2\n"},
		{"xpcall", `
local v = "a"
local function set(x) v = x end
xpcall(function() error({}) end, function(e) return e end)
set("b")
print(v)`, "b\n"},
		{"nested", `
local v = 0
local function set(x) v = x end
pcall(function()
  local w = 1
  local function setw(x) w = x end
  pcall(error, "inner")
  setw(5)
  set(w)
  error("outer")
end)
print(v)`, "5\n"},
		{"unwound frames keep their last values", `
local get
pcall(function()
  local x = 41
  get = function() return x end
  x = 42
  error("boom")
end)
local filler = {1, 2, 3, 4, 5, 6, 7, 8}
print(get())`, "42\n"},
		{"coroutine", `
local v = "a"
local co = coroutine.wrap(function()
  local w = 1
  local function setw() w = 2 end
  pcall(error, "x")
  setw()
  v = w
end)
co()
print(v)`, "2\n"},
		{"error from a Go function", `
local v = 1
local function set() v = 2 end
pcall(string.rep)
set()
print(v)`, "2\n"},
		{"error after an inner pcall returned", `
local v = 1
local function set() v = 3 end
pcall(function()
  pcall(function() end)
  error("after")
end)
set()
print(v)`, "3\n"},
		{"yield across pcall is refused, as Lua 5.1 does", `
local co = coroutine.create(function() return pcall(function() coroutine.yield(1) return 2 end) end)
print(coroutine.resume(co))
print(coroutine.status(co))
local co2 = coroutine.wrap(function(a) local b = coroutine.yield(a + 1); return b * 2 end)
print(co2(1), co2(5))`, "true\tfalse\tattempt to yield across metamethod/C-call boundary\ndead\n2\t10\n"},
		{"handler that fails", `
local v = 1
local function set() v = 4 end
print(xpcall(function() error("x") end, function() error("y") end))
set()
print(v)`, "false\terror in error handling\n4\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := run(t, c.src); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestNumbersAsLua51(t *testing.T) {
	got := run(t, `
local n = 1795497432.539
print(n, n .. "", tostring(0.1 + 0.2), 1e15, 2^53, -0.0, 1/0, -1/0, 123456789012345)
print("x" .. 0.5 .. "y" .. 3, table.concat({1.5, 2, 0.1}, ","))
local t = setmetatable({}, {__concat = function(a, b) return "meta" end})
print(t .. "s", "s" .. t, 1 .. t)
print(pcall(function() return "a" .. nil end))
`)
	want := "1795497432.539\t1795497432.539\t0.3\t1e+15\t9.007199254741e+15\t-0\tinf\t-inf\t1.2345678901234e+14\n" +
		"x0.5y3\t1.5,2,0.1\n" +
		"meta\tmeta\tmeta\n" +
		"false\ttest.lua:7: attempt to concatenate a nil value\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(got, "0.3") {
		t.Fatal("0.1+0.2")
	}
}

// A binding that fills the Lua stack makes gopher-lua's own error handling
// panic (PCall cannot push its handler); the outermost protected call turns
// that into a *BrokenStateError instead of a crash of the process.
func TestFullStackIsABrokenState(t *testing.T) {
	L := NewState(Options{})
	defer L.Close()
	L.SetGlobal("flood", L.NewFunction(func(L *lua.LState) int {
		for i := 0; i < 1<<20; i++ {
			L.Push(lua.LNumber(i))
		}
		return 1 << 20
	}))
	proto, err := Compile("flood.lua", []byte(`return flood()`))
	if err != nil {
		t.Fatal(err)
	}
	L.Push(L.NewFunctionFromProto(proto))
	err = PCall(L, 0, 0, false)
	var be *BrokenStateError
	if !errors.As(err, &be) {
		t.Fatalf("want a *BrokenStateError, got %T %v", err, err)
	}
}

// A runaway tail recursion stopped by the deadline gets a short traceback,
// built in bounded time: gopher-lua's wrote one line per tail call (630 MB
// and 8x the deadline for a 0.5 s run).
func TestTracebackAfterRunawayTailCalls(t *testing.T) {
	L := NewState(Options{})
	defer L.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	L.SetContext(ctx)
	proto, err := Compile("tail.lua", []byte("local function f() return f() end\nreturn f()"))
	if err != nil {
		t.Fatal(err)
	}
	L.Push(L.NewFunctionFromProto(proto))
	err = PCall(L, 0, 0, true)
	var ae *lua.ApiError
	if !errors.As(err, &ae) {
		t.Fatalf("want a Lua error, got %v", err)
	}
	lines := strings.Count(ae.StackTrace, "\n")
	if lines > 23 || !strings.HasPrefix(ae.StackTrace, "stack traceback:") || !strings.Contains(ae.StackTrace, "tail.lua:") {
		t.Fatalf("traceback of %d lines:\n%.2000s", lines, ae.StackTrace)
	}
}
