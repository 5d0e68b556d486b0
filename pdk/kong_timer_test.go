package pdk

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// timerStatsJSON is Root.TimerStats as JSON, for comparing shapes.
func timerStatsJSON(t *testing.T, r *Root) map[string]any {
	t.Helper()
	b, err := json.Marshal(r.TimerStats())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// With debug on (log_level = debug, as Kong's spec configuration), a
// timer made without a name is named after its creation time, the node's
// counter and its call site; its meta holds the call stack, outermost
// first. kong.timer:named_at keeps the name it is given.
func TestKongTimerNames(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{props: []string{"log_level", "debug"}})
	got := env.one(t, 0, `local function start()
  return ngx.timer.at(5, function() end)
end
local first = start()
local named = kong.timer:named_at("my-sync", 5, function() end)
local auto = kong.timer:every(2, function() end)
local st = kong.timer:stats({ verbose = true })
local names = {}
for name in pairs(st.timers) do names[#names + 1] = name end
table.sort(names)
local t = st.timers["unix_timestamp=1700000000000.000000;counter=0:meta=@test.lua:2:start()"]
return first, named, auto, table.concat(names, "|"), t.meta.name, t.meta.callstack, tostring(t.is_running)`)
	want := strings.Join([]string{
		"unix_timestamp=1700000000000.000000;counter=0:meta=@test.lua:2:start()",
		"my-sync",
		"unix_timestamp=1700000000000.000000;counter=1:meta=@test.lua:6:main()",
		"my-sync|unix_timestamp=1700000000000.000000;counter=0:meta=@test.lua:2:start()|" +
			"unix_timestamp=1700000000000.000000;counter=1:meta=@test.lua:6:main()",
		"@test.lua:2:start()",
		"@test.lua:4:main();@test.lua:2:start()",
		"false",
	}, " ")
	wantStr(t, "names", got, want)

	// a tail call leaves no frame of its own (LuaJIT has none), and the
	// tail-called function has no name
	wantStr(t, "tail call", env.one(t, 0, `local function inner()
  local name = kong.timer:at(1, function() end)
  return name
end
local function outer() return inner() end
local name = outer()
return kong.timer:stats({ verbose = true }).timers[name].meta.callstack`), "@test.lua:6:main();@test.lua:2:Lua()")

	// debug off (Kong's default log level): no call site
	env = newCacheEnv(t, cacheEnvOpts{})
	wantStr(t, "debug off", env.one(t, 0, `local name = kong.timer:at(1, function() end)
return name, kong.timer:stats({ verbose = true }).timers[name].meta.callstack`),
		"unix_timestamp=1700000000000.000000;counter=0:meta=debug off debug off")
}

// A one-shot is known until it has run, then gone; a repeating one stays,
// counting its runs and the ones that finished; a running one reports
// is_running; sys counts running, pending (due, not yet run), waiting.
func TestKongTimerStats(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{props: []string{"log_level", "debug"}})
	in := env.ins[0]
	env.do(t, 0, `seen = {}
kong.timer:named_at("once", 1, function()
  seen[#seen + 1] = tostring(kong.timer:stats({ verbose = true }).timers.once.is_running)
end)
local n = 0
kong.timer:named_every("tick", 1, function()
  n = n + 1
  if n == 2 then error("second run fails") end
end)
kong.timer:named_at("later", 60, function() end)`)
	st := timerStatsJSON(t, env.root)
	sys := st["sys"].(map[string]any)
	if sys["total"] != 3.0 || sys["running"] != 0.0 || sys["pending"] != 0.0 || sys["waiting"] != 3.0 {
		t.Fatalf("sys before: %v", sys)
	}
	env.clock.Advance(time.Second)
	st = timerStatsJSON(t, env.root)
	if sys := st["sys"].(map[string]any); sys["pending"] != 2.0 || sys["waiting"] != 1.0 {
		t.Fatalf("due, not run: %v", sys)
	}
	Drain(in)
	env.clock.Advance(time.Second)
	Drain(in)
	wantStr(t, "running in its callback", env.one(t, 0, `return table.concat(seen, ",")`), "true")
	st = timerStatsJSON(t, env.root)
	timers := st["timers"].(map[string]any)
	if _, ok := timers["once"]; ok {
		t.Fatalf("a one-shot that ran is still listed: %v", timers)
	}
	tick := timers["tick"].(map[string]any)
	stats := tick["stats"].(map[string]any)
	if tick["name"] != "tick" || tick["is_running"] != false || stats["runs"] != 2.0 || stats["finish"] != 1.0 ||
		!strings.HasSuffix(stats["last_err_msg"].(string), "second run fails") {
		t.Fatalf("tick: %v", tick)
	}
	if meta := tick["meta"].(map[string]any); meta["name"] != "@test.lua:6:main()" {
		t.Fatalf("tick meta: %v", meta)
	}
	if sys := st["sys"].(map[string]any); sys["runs"] != 3.0 || sys["total"] != 2.0 {
		t.Fatalf("sys after: %v", sys)
	}
	fg := st["flamegraph"].(map[string]any)
	if !strings.Contains(fg["elapsed_time"].(string), "@test.lua:6:main() 0\n") {
		t.Fatalf("flamegraph: %v", fg)
	}
}

// named_at refuses a name in use; cancel, pause and resume find timers by
// name; bad arguments raise timer-ng's assertions.
func TestKongTimerByName(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{})
	env.do(t, 0, timerLua)
	wantStr(t, "duplicate", env.one(t, 0, `
assert(kong.timer:named_at("a", 1, recorder("a")))
assert(kong.timer:named_every("b", 1, recorder("b")))
assert(kong.timer:named_at("c", 1, recorder("c")))
return kong.timer:named_at("a", 2, function() end)`), "false already exists timer")
	wantStr(t, "cancel, pause", env.one(t, 0, `
local ok1 = kong.timer:cancel("a")
local ok2, err2 = kong.timer:cancel("a")
local ok3 = kong.timer:pause("b")
local ok4, err4 = kong.timer:resume("c")
return ok1, ok2, err2, ok3, ok4, err4, kong.timer:is_managed("a"), kong.timer:is_managed("b"), ngx.timer.pending_count()`),
		"true false timer not found true false running false true 2")
	env.clock.Advance(time.Second)
	wantStr(t, "paused b skipped", env.one(t, 0, `return runs_str(), kong.timer:is_managed("b"), kong.timer:is_managed("c")`),
		"c(false;) true false")
	env.do(t, 0, `assert(kong.timer:resume("b"))`)
	env.clock.Advance(time.Second)
	wantStr(t, "resumed b runs", env.one(t, 0, `return runs_str()`), "b(false;)")

	for src, want := range map[string]string{
		`kong.timer:named_at("x", 1, "f")`:    "expected `callback` to be a function",
		`kong.timer:at("1", function() end)`:  "expected `delay to be a number",
		`kong.timer:at(-1, function() end)`:   "expected `delay` to be greater than or equal to 0",
		`kong.timer:every(0, function() end)`: "expected `interval` to be greater than or equal to 0",
		`kong.timer:cancel(1)`:                "expected `name` to be a string",
	} {
		if got := env.fail(t, 0, src); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", src, got, want)
		}
	}
}

// The node's stats hold every open worker's timers; a closed worker's are
// gone.
func TestRootTimerStatsAllWorkers(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{workers: 2})
	env.do(t, 0, `kong.timer:named_at("w0", 10, function() end)`)
	env.do(t, 1, `kong.timer:named_at("w1", 10, function() end); ngx.timer.at(10, function() end)`)
	st := timerStatsJSON(t, env.root)
	if n := len(st["timers"].(map[string]any)); n != 3 {
		t.Fatalf("timers: %v", st["timers"])
	}
	CloseEvents(env.ins[1])
	st = timerStatsJSON(t, env.root)
	timers := st["timers"].(map[string]any)
	if _, ok := timers["w0"]; len(timers) != 1 || !ok {
		t.Fatalf("after closing worker 1: %v", timers)
	}
}

// ngx.timer.at and every answer the timer's name, as Kong 3's patched
// ones answer timer-ng's; a delay timer-ng hands to nginx (under its
// 0.1 s resolution but not 0 for at, or a day and more) answers nginx's 1.
func TestNgxTimerAnswersName(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{})
	got := env.one(t, 0, `local f = function() end
local out = {}
for _, d in ipairs({ 0, 0.05, 0.1, 5, 86399, 86400 }) do
  local r = ngx.timer.at(d, f)
  out[#out + 1] = type(r) == "string" and (r:match("^unix_timestamp=") and "name" or r) or tostring(r)
end
for _, d in ipairs({ 0.05, 0.1, 86400 }) do
  local r = ngx.timer.every(d, f)
  out[#out + 1] = type(r) == "string" and (r:match("^unix_timestamp=") and "name" or r) or tostring(r)
end
return table.concat(out, " ")`)
	wantStr(t, "answers", got, "name 1 name name name 1 1 name 1")
}

// require "resty.timerng" answers new(), a timer system with kong.timer's
// methods whose jobs run in the worker, as Kong's specs use it in place of
// kong.timer.
func TestTimerngNew(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{})
	env.do(t, 0, timerLua)
	wantStr(t, "started", env.one(t, 0, `
local timer = require("resty.timerng").new({ threads = 4 })
local ok, err = timer:start()
assert(ok, err)
kong.timer = timer
assert(kong.timer:named_at("ng", 1, recorder("ng")))
return timer:is_managed("ng"), type(timer.every), type(timer.stats)`), "true function function")
	env.clock.Advance(time.Second)
	wantStr(t, "ran", env.one(t, 0, `return runs_str()`), "ng(false;)")
}
