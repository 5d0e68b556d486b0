package ngx_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/luahost/luahost/pdk/pdktest"
)

// ngx.thread: a thread runs at spawn until it ends or yields; wait answers
// with coroutine.resume's values; pending threads run while their parent
// waits, first yielded first resumed.
func TestNgxThread(t *testing.T) {
	in, _ := pdktest.New(t)
	for src, want := range map[string]string{
		// spawn runs the function at once with its arguments, returns the coroutine
		`local log = {}
		 local th = ngx.thread.spawn(function(a, b) log[#log+1] = "in" return a + b, "x" end, 1, 2)
		 log[#log+1] = "after"
		 local ok, s, x = ngx.thread.wait(th)
		 return type(th) .. " " .. table.concat(log, ",") .. " " .. tostring(ok) .. " " .. s .. x`: "thread in,after true 3x",
		// an ended thread answers before the later arguments are looked at (ngx_lua's loop)
		`return select(2, ngx.thread.wait(ngx.thread.spawn(function() return "z" end), {}))`: "z",
		// a thread returning nothing: wait returns true alone
		`return select("#", ngx.thread.wait(ngx.thread.spawn(function() end)))`: "1",
		// coroutine.yield gives the parent back; wait resumes the thread,
		// the yield's values are dropped and it returns nothing
		`local out = {}
		 local th = ngx.thread.spawn(function()
		   out[#out+1] = "f1" local n = select("#", coroutine.yield("dropped")) out[#out+1] = n
		   out[#out+1] = "f2" coroutine.yield() out[#out+1] = "f3" return "done" end)
		 out[#out+1] = "main"
		 local ok, r = ngx.thread.wait(th)
		 return table.concat(out, ",") .. " " .. r`: "f1,main,0,f2,f3 done",
		// two ended threads: the first in argument order
		`local a = ngx.thread.spawn(function() return "a" end)
		 local b = ngx.thread.spawn(function() return "b" end)
		 local _, r = ngx.thread.wait(b, a) local _, r2 = ngx.thread.wait(a)
		 return r .. r2`: "ba",
		// pending threads: the first to end, whatever the argument order
		`local out = {}
		 local a = ngx.thread.spawn(function() coroutine.yield() out[#out+1] = "a1" coroutine.yield() out[#out+1] = "a2" return "a" end)
		 local b = ngx.thread.spawn(function() coroutine.yield() out[#out+1] = "b1" return "b" end)
		 local _, r = ngx.thread.wait(a, b)
		 local _, r2 = ngx.thread.wait(a)
		 return r .. r2 .. " " .. table.concat(out, ",")`: "ba a1,b1,a2",
		// waiting on a thread resumes the other pending threads too
		`local out = {}
		 local a = ngx.thread.spawn(function() coroutine.yield() out[#out+1] = "a" end)
		 local b = ngx.thread.spawn(function() coroutine.yield() out[#out+1] = "b" end)
		 ngx.thread.wait(b)
		 return table.concat(out, ",")`: "a,b",
		// a failed thread: false and its error
		`local th = ngx.thread.spawn(function() error("boom") end)
		 return tostring(select(1, ngx.thread.wait(th))) .. " " .. select(2, ngx.thread.wait(ngx.thread.spawn(function() error("boom") end)))`: "false test.lua:2: boom",
		`local e = {} local ok, got = ngx.thread.wait(ngx.thread.spawn(function() error(e) end)) return tostring(ok) .. tostring(got == e)`: "falsetrue",
		// waited once only; a dead thread before the last argument is skipped
		`local th = ngx.thread.spawn(function() return 1 end) ngx.thread.wait(th)
		 local ok, err = ngx.thread.wait(th)
		 local ok2, r = ngx.thread.wait(th, ngx.thread.spawn(function() return "next" end))
		 return tostring(ok) .. " " .. err .. " " .. tostring(ok2) .. " " .. r`: "nil already waited or killed true next",
		// a thread's own threads, waited by it
		`local th = ngx.thread.spawn(function()
		   local c = ngx.thread.spawn(function() coroutine.yield() return "grandchild" end)
		   coroutine.yield()
		   return select(2, ngx.thread.wait(c)) end)
		 return select(2, ngx.thread.wait(th))`: "grandchild",
		// kill: a pending thread never runs again; then already waited or killed
		`local out = {}
		 local th = ngx.thread.spawn(function() coroutine.yield() out[#out+1] = "ran" end)
		 local ok = ngx.thread.kill(th)
		 local ok2, err = ngx.thread.kill(th)
		 local ok3, err3 = ngx.thread.wait(th)
		 ngx.thread.wait(ngx.thread.spawn(function() coroutine.yield() end))
		 return tostring(ok) .. " " .. tostring(ok2) .. " " .. err .. " " .. err3 .. " " .. #out`: "1 nil already waited or killed already waited or killed 0",
		`local th = ngx.thread.spawn(function() end)
		 local ok, err = ngx.thread.kill(th) local ok2, err2 = ngx.thread.wait(th)
		 return tostring(ok) .. " " .. err .. " " .. err2`: "nil already terminated already waited or killed",
		`local ok, err = ngx.thread.kill(coroutine.create(function() end)) return tostring(ok) .. " " .. err`: "nil not user thread",
		`local c
		 local th = ngx.thread.spawn(function() c = ngx.thread.spawn(function() coroutine.yield() end) end)
		 local ok, err = ngx.thread.kill(c) return tostring(ok) .. " " .. err`: "nil killer not parent",
	} {
		if got := pdktest.Str(t, in, src); got != want {
			t.Errorf("%s\n= %q, want %q", src, got, want)
		}
	}
	for src, want := range map[string]string{
		`ngx.thread.spawn(print)`: "test.lua:1: bad argument #1 to 'spawn' (Lua function expected)",
		`ngx.thread.spawn()`:      "test.lua:1: bad argument #1 to 'spawn' (Lua function expected)",
		`ngx.thread.wait()`:       "test.lua:1: at least one coroutine should be specified",
		`ngx.thread.wait(1)`:      "test.lua:1: bad argument #1 to 'wait' (lua thread expected)",
		`ngx.thread.wait(ngx.thread.spawn(function() coroutine.yield() end), {})`: "test.lua:1: bad argument #2 to 'wait' (lua thread expected)",
		`ngx.thread.wait(coroutine.create(function() end))`:                       "test.lua:1: attempt to wait on a coroutine that is not a user thread",
		`ngx.thread.kill("x")`: "test.lua:1: bad argument #1 to 'kill' (lua thread expected)",
		"local c\nngx.thread.spawn(function() c = ngx.thread.spawn(function() coroutine.yield() end) end)\nngx.thread.wait(c)": "test.lua:3: only the parent coroutine can wait on the thread",
	} {
		if got := pdktest.LuaErr(t, in, src); got != want {
			t.Errorf("%s: %q, want %q", src, got, want)
		}
	}
}

// A thread that fails is logged as ngx_lua logs it.
func TestNgxThreadAbortLogged(t *testing.T) {
	in, sink := pdktest.New(t)
	pdktest.Run(t, in, "t.lua", `ngx.thread.spawn(function() error("boom") end)`)
	if got := strings.Join(sink.All(), "\n"); !strings.Contains(got, "lua user thread aborted: runtime error: t.lua:1: boom") {
		t.Fatalf("log: %q", got)
	}
}

// ngx.thread follows ngx_lua's context checks: not in log, header_filter,
// body_filter, init_worker.
func TestNgxThreadContext(t *testing.T) {
	in, _ := pdktest.New(t)
	pdktest.Run(t, in, "t.lua", `th = ngx.thread.spawn(function() coroutine.yield() end)`)
	for _, phase := range []string{"log", "header_filter", "body_filter", "init_worker"} {
		in.Phase = phase
		for _, src := range []string{`ngx.thread.spawn(function() end)`, `ngx.thread.wait(th)`, `ngx.thread.kill(th)`} {
			if got := pdktest.LuaErr(t, in, src); !strings.HasSuffix(got, "API disabled in the context of "+phase+"_by_lua*") {
				t.Errorf("%s in %s: %q", src, phase, got)
			}
		}
	}
	for _, phase := range []string{"rewrite", "access", "content", "timer"} {
		in.Phase = phase
		if got := pdktest.Str(t, in, `return select(2, ngx.thread.wait(ngx.thread.spawn(function() return "ok" end)))`); got != "ok" {
			t.Errorf("%s: %q", phase, got)
		}
	}
}

// The host call's end runs its pending threads to their end (ngx_lua's
// handler ends once its threads have) or, when the call failed, drops them.
func TestNgxThreadLeave(t *testing.T) {
	in, _ := pdktest.New(t)
	in.EnterThreads()
	pdktest.Run(t, in, "t.lua", `done = 0 ngx.thread.spawn(function() coroutine.yield() coroutine.yield() done = 1 end)`)
	if got := pdktest.Str(t, in, `return done`); got != "0" {
		t.Fatalf("before leave: %s", got)
	}
	in.LeaveThreads(true)
	if got := pdktest.Str(t, in, `return done`); got != "1" {
		t.Fatalf("after leave: %s", got)
	}
	// a call inside that one (a timer run by a binding) waits on the
	// outer call's thread; its own pending thread ends with it
	in.EnterThreads()
	pdktest.Run(t, in, "t.lua", `outer = ngx.thread.spawn(function() coroutine.yield() return "outer" end)`)
	in.EnterThreads()
	pdktest.Run(t, in, "t.lua", `inner = 0 ngx.thread.spawn(function() coroutine.yield() inner = 1 end)
		got = select(2, ngx.thread.wait(outer))`)
	in.LeaveThreads(true)
	if got := pdktest.Str(t, in, `return got .. inner`); got != "outer1" {
		t.Fatalf("nested: %s", got)
	}
	in.LeaveThreads(true)
	in.EnterThreads()
	pdktest.Run(t, in, "t.lua", `done = 0 th = ngx.thread.spawn(function() coroutine.yield() done = 1 end)`)
	in.LeaveThreads(false)
	if got := pdktest.Str(t, in, `local ok, err = ngx.thread.kill(th) return tostring(done) .. err`); got != "0not user thread" {
		t.Fatalf("after a failed call: %s", got)
	}
}

// A thread looping forever is stopped by the state's deadline, in spawn
// and in wait.
func TestNgxThreadDeadline(t *testing.T) {
	for _, src := range []string{
		`ngx.thread.spawn(function() while true do end end)`,
		`ngx.thread.wait(ngx.thread.spawn(function() while true do coroutine.yield() end end))`,
		`local th = ngx.thread.spawn(function() while true do coroutine.yield() end end) pcall(ngx.thread.wait, th) return "swallowed"`,
	} {
		in, _ := pdktest.New(t)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		in.L.SetContext(ctx)
		_, err := pdktest.RunErr(in, "t.lua", src)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "context deadline exceeded") {
			t.Errorf("%s: %v", src, err)
		}
		in.L.RemoveContext()
	}
}
