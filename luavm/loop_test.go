package luavm

import (
	"context"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// Under SetContext a cancelled context stops every kind of loop at its
// next iteration, with the error mainLoopWithContext raises. Each loop is
// bounded and counts its turns in n, so that a form the poll misses shows
// as a loop that ran on rather than as a hang.
func TestSetContextStopsLoops(t *testing.T) {
	if err := LoopInternals(); err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{
		"while":        `while n < 1e6 do n = n + 1 end`,
		"repeat":       `repeat n = n + 1 until n >= 1e6`,
		"numeric for":  `for i = 1, 1e6 do n = i end`,
		"generic for":  `local function it(_, i) if i < 1e6 then return i + 1 end end for i in it, nil, 0 do n = i end`,
		"tail call":    `local function f(k) n = n + 1 if k == 0 then return 0 end return f(k - 1) end f(1e6)`,
		"recursion":    `local function f(k) n = n + 1 if k == 0 then return 0 end return 1 + f(k - 1) end f(150)`,
		"Go callback":  `string.rep("a", 1e6):gsub("a", function(c) n = n + 1 return c end)`,
		"sort compare": `local t = {} t[1], t[2] = 2, 1 table.sort(t, function(a, b) n = n + 1 return a < b end)`,
	} {
		t.Run(name, func(t *testing.T) {
			L := NewState(Options{})
			defer L.Close()
			L.SetGlobal("n", lua.LNumber(0))
			fn, err := L.LoadString(src)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			SetContext(L, ctx)
			err = L.CallByParam(lua.P{Fn: fn, Protect: true})
			if err == nil || !strings.Contains(err.Error(), context.Canceled.Error()) {
				t.Fatalf("a cancelled context did not stop the loop: %v", err)
			}
			// stopped at its first turns, not when it was over
			if n := L.GetGlobal("n").(lua.LNumber); n > 2 {
				t.Fatalf("stopped after %v turns", n)
			}
		})
	}
}

// The context cancelled while the loop runs (from another goroutine, once
// the loop has started) stops it too.
func TestSetContextStopsRunningLoop(t *testing.T) {
	L := NewState(Options{})
	defer L.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan struct{})
	L.SetGlobal("started", L.NewFunction(func(L *lua.LState) int {
		close(started)
		return 0
	}))
	go func() {
		<-started
		cancel()
	}()
	SetContext(L, ctx)
	err := L.DoString(`started() while true do end`)
	if err == nil || !strings.Contains(err.Error(), context.Canceled.Error()) {
		t.Fatalf("err = %v", err)
	}
}

// A StopContext's Stop, and its parent's cancellation, stop a running
// loop as any context's cancellation does (the polled instructions read
// its flag instead of polling Done).
func TestStopContextStopsRunningLoop(t *testing.T) {
	for _, by := range []string{"Stop", "parent"} {
		t.Run(by, func(t *testing.T) {
			L := NewState(Options{})
			defer L.Close()
			parent, cancelParent := context.WithCancel(context.Background())
			defer cancelParent()
			sc := NewStopContext(parent)
			defer sc.Stop()
			L.SetGlobal("started", L.NewFunction(func(L *lua.LState) int {
				if by == "Stop" {
					go sc.Stop()
				} else {
					go cancelParent()
				}
				return 0
			}))
			SetContext(L, sc)
			for _, loop := range []string{`while true do end`, `for i = 1, math.huge do end`, `local function f() return f() end f()`} {
				if err := L.DoString(`started() ` + loop); err == nil || !strings.Contains(err.Error(), context.Canceled.Error()) {
					t.Fatalf("%s: err = %v", loop, err)
				}
			}
		})
	}
}
