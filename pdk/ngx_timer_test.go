package pdk

import (
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// timerLua records timer runs in the global `runs`.
const timerLua = `
runs = {}
function runs_str() local s = table.concat(runs, " "); runs = {}; return s end
function recorder(tag)
  return function(premature, ...)
    local args = {}
    for i = 1, select("#", ...) do args[#args + 1] = tostring((select(i, ...))) end
    runs[#runs + 1] = tag .. "(" .. tostring(premature) .. ";" .. table.concat(args, ",") .. ")"
  end
end
`

func TestNgxTimerAtRunsLaterInTheSameState(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{})
	in := env.ins[0]
	env.do(t, 0, timerLua)
	wantStr(t, "at", env.one(t, 0, `
ngx.ctx.request_value = "req"
local ok, err = ngx.timer.at(5, function(premature, a, b, c)
  runs[#runs + 1] = table.concat({ tostring(premature), a, tostring(b), tostring(c.k),
    ngx.get_phase(), tostring(ngx.ctx.request_value), tostring(ngx.timer.running_count()) }, ",")
  ngx.ctx.request_value = "timer's own"
end, "x", 42, { k = "table by reference" })
return ok, err, ngx.timer.pending_count(), ngx.timer.running_count(), runs_str()`), "unix_timestamp=1700000000000.000000;counter=0:meta=debug off nil 1 0 ")
	// Not due yet: a drain runs nothing.
	env.clock.Advance(4900 * time.Millisecond)
	Drain(in)
	wantStr(t, "early", env.one(t, 0, `return runs_str()`), "")
	env.clock.Advance(100 * time.Millisecond)
	Drain(in)
	wantStr(t, "ran", env.one(t, 0, `return runs_str(), ngx.timer.pending_count()`),
		"false,x,42,table by reference,timer,nil,1 0")
	// The worker's phase and ngx.ctx are back.
	if in.Phase != "access" {
		t.Fatalf("phase after the timer: %q", in.Phase)
	}
	wantStr(t, "ctx restored", env.one(t, 0, `return ngx.ctx.request_value, ngx.get_phase()`), "req access")
}

func TestNgxTimerZeroDelayRunsAtTheNextDrain(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{})
	env.do(t, 0, timerLua)
	// Not inside the creating call.
	wantStr(t, "created", env.one(t, 0, `
ngx.timer.at(0, recorder("a"), 1)
ngx.timer.at(0, recorder("b"), 2)
ngx.timer.at(0, function() runs[#runs + 1] = "c"; ngx.timer.at(0, recorder("nested")) end)
return runs_str()`), "")
	// In creation order; a timer made by a timer waits for the next drain.
	wantStr(t, "next drain", env.one(t, 0, `return runs_str()`), "a(false;1) b(false;2) c")
	wantStr(t, "one more", env.one(t, 0, `return runs_str()`), "nested(false;)")
	// Earlier due first, whatever the creation order.
	env.do(t, 0, `ngx.timer.at(2, recorder("late")); ngx.timer.at(1, recorder("early"))`)
	env.clock.Advance(2 * time.Second)
	wantStr(t, "due order", env.one(t, 0, `return runs_str()`), "early(false;) late(false;)")
}

func TestNgxTimerEvery(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{})
	env.do(t, 0, timerLua)
	wantStr(t, "every", env.one(t, 0, `n = 0
return ngx.timer.every(1, function(premature, step) n = n + step end, 10)`), "unix_timestamp=1700000000000.000000;counter=0:meta=debug off")
	for i := 1; i <= 3; i++ {
		env.clock.Advance(time.Second)
		Drain(env.ins[0])
	}
	// Each run schedules the next: still one pending.
	wantStr(t, "repeated", env.one(t, 0, `return n, ngx.timer.pending_count()`), "30 1")
	// Two periods passed between drains: it runs once, as nginx's timer.
	env.clock.Advance(2 * time.Second)
	wantStr(t, "late drain", env.one(t, 0, `return n`), "40")
	env.clock.Advance(500 * time.Millisecond)
	wantStr(t, "next period from the last run", env.one(t, 0, `return n`), "40")
	env.clock.Advance(500 * time.Millisecond)
	wantStr(t, "again", env.one(t, 0, `return n`), "50")
	wantStr(t, "zero", env.fail(t, 0, `ngx.timer.every(0, function() end)`), "test.lua:1: delay cannot be zero")
	wantStr(t, "under a millisecond", env.fail(t, 0, `ngx.timer.every(0.0004, function() end)`),
		"test.lua:1: delay cannot be zero")
}

func TestNgxTimerBadArguments(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{})
	wantStr(t, "one arg", env.fail(t, 0, `ngx.timer.at(1)`), "test.lua:1: expecting at least 2 arguments but got 1")
	if got := env.fail(t, 0, `ngx.timer.at("soon", function() end)`); !strings.Contains(got, "bad argument #1") {
		t.Fatalf("non-number delay: %q", got)
	}
	for _, src := range []string{`ngx.timer.at(1, "f")`, `ngx.timer.at(1, print)`} {
		if got := env.fail(t, 0, src); !strings.Contains(got, "bad argument #2") || !strings.Contains(got, "(Lua function expected)") {
			t.Fatalf("%s: %q", src, got)
		}
	}
	wantStr(t, "nothing pending", env.one(t, 0, `return ngx.timer.pending_count()`), "0")
}

func TestNgxTimerErrorsAreContained(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{})
	env.do(t, 0, timerLua)
	env.do(t, 0, `ngx.ctx.kept = "yes"
ngx.timer.at(0, function() local x = nil; return x.field end)
ngx.timer.at(0, function()
  error("boom")
end)
ngx.timer.at(0, recorder("after"))`)
	wantStr(t, "others ran", env.one(t, 0, `return runs_str(), ngx.get_phase(), ngx.ctx.kept, ngx.timer.running_count()`),
		"after(false;) access yes 0")
	var errs []string
	for _, l := range env.sink.all() {
		if strings.HasPrefix(l, "error|lua entry thread aborted: runtime error: ") {
			errs = append(errs, l)
		}
	}
	if len(errs) != 2 {
		t.Fatalf("error lines: %q", env.sink.all())
	}
	if !strings.HasPrefix(errs[0], "error|lua entry thread aborted: runtime error: test.lua:2: attempt to index") {
		t.Fatalf("first error: %q", errs[0])
	}
	want := "error|lua entry thread aborted: runtime error: test.lua:4: boom\nstack traceback:"
	if !strings.HasPrefix(errs[1], want) || !strings.HasSuffix(errs[1], ", context: ngx.timer") {
		t.Fatalf("second error:\n%s\nwant prefix %q and the timer context", errs[1], want)
	}
}

func TestNgxTimerMaxPending(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{props: []string{"lua_max_pending_timers", "2"}})
	wantStr(t, "limit", env.one(t, 0, `
local f = function() end
local a = ngx.timer.at(10, f)
local b = ngx.timer.every(10, f)
local c, err = ngx.timer.at(0, f)
return a, b, c, err, ngx.timer.pending_count()`), "unix_timestamp=1700000000000.000000;counter=0:meta=debug off unix_timestamp=1700000000000.000000;counter=1:meta=debug off nil too many pending timers 2")
	if q := env.ins[0].timers; q.maxPending != 2 || q.maxRunning != defaultMaxRunningTimers {
		t.Fatalf("limits %d %d", q.maxPending, q.maxRunning)
	}
	env2 := newCacheEnv(t, cacheEnvOpts{})
	if q := env2.ins[0].timerQueue(); q.maxPending != 16384 || q.maxRunning != 4096 {
		t.Fatalf("default limits %d %d", q.maxPending, q.maxRunning)
	}
}

func TestNgxTimerMaxRunning(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{props: []string{"lua_max_running_timers", "0"}})
	env.do(t, 0, timerLua)
	env.do(t, 0, `ngx.timer.at(0, recorder("never"))`)
	wantStr(t, "dropped", env.one(t, 0, `return runs_str(), ngx.timer.pending_count()`), " 0")
	want := "alert|lua failed to run timer with function defined at test.lua:5: 0 lua_max_running_timers are not enough"
	if !containsString(env.sink.all(), want) {
		t.Fatalf("log %q, want %q", env.sink.all(), want)
	}
}

func TestNgxTimerPrematureOnClose(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{})
	in := env.ins[0]
	env.do(t, 0, timerLua)
	env.do(t, 0, `
ngx.timer.at(60, function(premature, v)
  local again, err = ngx.timer.at(1, function() end)
  local now_ok = ngx.timer.at(0, recorder("zero-during-exit"))
  now_ok = type(now_ok) == "string" and now_ok:match("^unix_timestamp=") and "name" or now_ok
  runs[#runs + 1] = "at(" .. tostring(premature) .. ";" .. v .. ";" .. tostring(ngx.worker.exiting()) ..
    ";" .. tostring(again) .. "," .. tostring(err) .. ";" .. tostring(now_ok) .. ")"
end, "v")
ngx.timer.every(30, recorder("every"), "e")`)
	wantStr(t, "not yet", env.one(t, 0, `return runs_str(), ngx.worker.exiting()`), " false")
	CloseEvents(in)
	wantStr(t, "premature", str(t, in, `return runs_str(), ngx.timer.pending_count()`),
		"every(true;e) at(true;v;true;nil,process exiting;name) zero-during-exit(true;)")
	wantStr(t, "pending after close", str(t, in, `return ngx.timer.pending_count()`), "0")
	// A second close (the test cleanup) is harmless.
	CloseEvents(in)
}

func TestNgxTimerCloseIsBounded(t *testing.T) {
	old := timerCloseBudget
	timerCloseBudget = 100 * time.Millisecond
	t.Cleanup(func() { timerCloseBudget = old })
	env := newCacheEnv(t, cacheEnvOpts{})
	in := env.ins[0]
	env.do(t, 0, `ngx.timer.at(60, function() while true do end end)
ngx.timer.at(61, function() end)
ngx.timer.at(62, function() end)`)
	// the close returns (the runaway is stopped by the close budget: an
	// endless loop otherwise; no time bound asserted, the log says why)
	CloseEvents(in)
	found := false
	for _, l := range env.sink.all() {
		if strings.HasPrefix(l, "warn|worker closing: dropped 2 pending timers") {
			found = true
		}
	}
	if !found {
		t.Fatalf("log: %q", env.sink.all())
	}
	if in.L.Context() != nil {
		t.Fatal("the state keeps the close budget's context")
	}
}

// With the real clock the due time wakes the worker's inbox, so the host's
// idle drainer runs the timer with no request; when that wake-up finds the
// worker busy, it comes again.
func TestNgxTimerWakesTheInbox(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{})
	env.root.Now = nil
	in := env.ins[0]
	env.do(t, 0, `ran = 0; ngx.timer.at(0.05, function() ran = ran + 1 end)`)
	ready := Inbox(in).Ready()
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		t.Fatal("no wake-up")
	}
	// The worker was busy: this wake-up is lost.
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		t.Fatal("no second wake-up")
	}
	Drain(in)
	wantStr(t, "ran", str(t, in, `return ran`), "1")
	// Nothing pending: no more wake-ups.
	select {
	case <-ready:
		t.Fatal("woken with nothing due")
	case <-time.After(300 * time.Millisecond):
	}
}

func TestNgxTimerUsesTheHostCall(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{})
	in := env.ins[0]
	calls := 0
	in.Call = func(fn lua.LValue, nret int, args ...lua.LValue) error {
		calls++
		in.L.Push(fn)
		for _, a := range args {
			in.L.Push(a)
		}
		return in.L.PCall(len(args), nret, nil)
	}
	env.do(t, 0, `got = nil; ngx.timer.at(0, function(p, a) got = tostring(p) .. a end, "!")`)
	wantStr(t, "ran", env.one(t, 0, `return got`), "false!")
	if calls != 1 {
		t.Fatalf("host call used %d times", calls)
	}
}

func BenchmarkNgxTimerAt(b *testing.B) {
	env := newCacheEnv(b, cacheEnvOpts{})
	in := env.ins[0]
	env.do(b, 0, `n = 0; f = function() n = n + 1 end`)
	fn := in.L.GetGlobal("f")
	at := in.L.GetField(in.L.GetField(in.L.GetGlobal("ngx"), "timer"), "at")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in.L.Push(at)
		in.L.Push(lua.LNumber(0))
		in.L.Push(fn)
		if err := in.L.PCall(2, 0, nil); err != nil {
			b.Fatal(err)
		}
		Drain(in)
	}
}

// Without the host's Call, a runaway callback is stopped by lua_timeout and
// the worker goes on.
func TestNgxTimerRunawayIsStopped(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{props: []string{"lua_timeout", "50"}})
	in := env.ins[0]
	env.do(t, 0, `ngx.timer.at(0, function() while true do end end)`)
	// returns: the endless loop is stopped (the log below says by
	// lua_timeout; no time bound asserted)
	Drain(in)
	if in.L.Context() != nil {
		t.Fatal("the state keeps the timer's deadline")
	}
	found := false
	for _, l := range env.sink.all() {
		if strings.HasPrefix(l, "error|lua entry thread aborted: runtime error: ") && strings.Contains(l, "context deadline exceeded") {
			found = true
		}
	}
	if !found {
		t.Fatalf("log: %q", env.sink.all())
	}
	wantStr(t, "worker goes on", env.one(t, 0, `return 1 + 1`), "2")
}
