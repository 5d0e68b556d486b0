package pdk

import (
	"strings"
	"sync"
	"testing"

	"github.com/luahost/luahost/kongdb/events"
	"github.com/luahost/luahost/pdk/bind"
)

const recorderLua = `
seen = {}
function rec(tag)
  return function(data, event, source, pid)
    local d = type(data) == "table" and (data.v or "tbl") or tostring(data)
    seen[#seen + 1] = tag .. ":" .. source .. "/" .. event .. "=" .. tostring(d) .. "@" .. tostring(pid)
  end
end
function seen_str() local s = table.concat(seen, " "); seen = {}; return s end
`

func TestWorkerEventsPost(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{workers: 2})
	for i := range env.ins {
		env.do(t, i, recorderLua)
		env.do(t, i, `kong.worker_events.register(rec("w`+string(rune('0'+i))+`"), "my-plugin", "changed")`)
	}
	// The poster's callbacks run before post returns (pid = worker id).
	wantStr(t, "post", env.one(t, 0, `local ok, err = kong.worker_events.post("my-plugin", "changed", { v = "x" })
return ok, err, seen_str()`), "done nil w0:my-plugin/changed=x@0")
	// The other worker runs them when it drains its inbox.
	in1 := env.ins[1]
	if got := str(t, in1, `return seen_str()`); got != "" {
		t.Fatalf("worker 1 ran callbacks before draining: %q", got)
	}
	wantStr(t, "after drain", env.one(t, 1, `return seen_str()`), "w1:my-plugin/changed=x@0")
	// poll() drains too.
	env.do(t, 1, `kong.worker_events.post("my-plugin", "changed", "y")`)
	wantStr(t, "poll", str(t, env.ins[0], `local r = kong.worker_events.poll(); return r .. " " .. seen_str()`), "done w0:my-plugin/changed=y@1")
	// Other events and sources are not delivered.
	env.do(t, 0, `kong.worker_events.post("my-plugin", "other", 1); kong.worker_events.post("else", "changed", 1)`)
	wantStr(t, "filtered", env.one(t, 1, `return seen_str()`), "w1:my-plugin/changed=y@1")
	// Bad arguments are returned, not thrown.
	wantStr(t, "no source", env.one(t, 0, `return kong.worker_events.post(nil, "e", 1)`), "nil source is required")
	wantStr(t, "no event", env.one(t, 0, `return kong.worker_events.post("s", "", 1)`), "nil event is required")
	wantStr(t, "unserializable", env.one(t, 0, `return kong.worker_events.post("s", "e", { f = print })`),
		"nil failed to publish event: f: cannot convert a function")
}

// A worker's callbacks run in phase "timer", as Kong's event loop runs
// them in a timer, whatever phase the worker last ran: one drained after
// a log phase may make a cosocket and sleep; the phase is put back after.
func TestWorkerEventsRunInTimerPhase(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{workers: 2})
	env.do(t, 1, `
seen = {}
kong.worker_events.register(function()
  local ok, err = pcall(function() ngx.socket.tcp() ngx.sleep(0) end)
  seen[#seen + 1] = ngx.get_phase() .. " " .. tostring(ok) .. " " .. tostring(err)
end, "my-plugin", "changed")`)
	env.do(t, 0, `kong.worker_events.post("my-plugin", "changed", 1)`)
	in1 := env.ins[1]
	in1.Phase = "log"
	Drain(in1)
	if in1.Phase != "log" {
		t.Fatalf("phase after drain: %q", in1.Phase)
	}
	wantStr(t, "callback", str(t, in1, `return table.concat(seen, "|")`), "timer true nil")
}

func TestWorkerEventsRegistrationKinds(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{})
	env.do(t, 0, recorderLua)
	env.do(t, 0, `
kong.worker_events.register(rec("ev"), "src", "a", "b")
kong.worker_events.register(rec("src"), "src")
kong.worker_events.register(rec("all"))`)
	// Everything first, then the whole source, then the event.
	wantStr(t, "order", env.one(t, 0, `kong.worker_events.post_local("src", "a", "d"); return seen_str()`),
		"all:src/a=d@nil src:src/a=d@nil ev:src/a=d@nil")
	wantStr(t, "b", env.one(t, 0, `kong.worker_events.post_local("src", "b"); return seen_str()`),
		"all:src/b=nil@nil src:src/b=nil@nil ev:src/b=nil@nil")
	wantStr(t, "c", env.one(t, 0, `kong.worker_events.post_local("src", "c"); return seen_str()`),
		"all:src/c=nil@nil src:src/c=nil@nil")
	wantStr(t, "other", env.one(t, 0, `kong.worker_events.post_local("x", "a"); return seen_str()`), "all:x/a=nil@nil")
	// unregister removes the registration; false when there is none.
	wantStr(t, "unregister", env.one(t, 0, `
local f = function() seen[#seen + 1] = "f" end
kong.worker_events.register(f, "u", "e")
kong.worker_events.post_local("u", "e")
local a = kong.worker_events.unregister(f, "u", "e")
local b = kong.worker_events.unregister(f, "u", "e")
kong.worker_events.post_local("u", "e")
return a, b, seen_str()`), "true false all:u/e=nil@nil f all:u/e=nil@nil")
}

func TestWorkerEventsPostLocalByReference(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{workers: 2})
	for i := range env.ins {
		env.do(t, i, `got = nil; kong.worker_events.register(function(data) got = data end, "s", "e")`)
	}
	wantStr(t, "post_local", env.one(t, 0, `
local data = { fn = print }
local ok = kong.worker_events.post_local("s", "e", data)
return ok, rawequal(got, data)`), "done true")
	wantStr(t, "not elsewhere", env.one(t, 1, `return got`), "nil")
}

func TestWorkerEventsCallbackErrorsAreLogged(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{workers: 2})
	for i := range env.ins {
		env.do(t, i, `kong.worker_events.register(function() error("handler broke") end, "s", "e")
after = 0
kong.worker_events.register(function() after = after + 1 end, "s", "e")`)
	}
	wantStr(t, "poster unaffected", env.one(t, 0, `local ok, err = kong.worker_events.post("s", "e", 1); return ok, err, after`), "done nil 1")
	wantStr(t, "other worker", env.one(t, 1, `return after`), "1")
	logs := strings.Join(env.sink.all(), "\n")
	if n := strings.Count(logs, "error|worker-events: event callback failed; source=s, event=e, pid=0 error='test.lua:1: handler broke'"); n != 2 {
		t.Fatalf("want the failure logged once per worker, got:\n%s", logs)
	}
}

func TestWorkerEventsUniqueAndRecursivePoll(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{workers: 3})
	for i := range env.ins {
		env.do(t, i, `n = 0; kong.worker_events.register(function() n = n + 1 end, "s", "u")`)
	}
	env.do(t, 0, `kong.worker_events.post("s", "u", 1, "only-once")
kong.worker_events.post("s", "u", 1, "only-once")`)
	total := 0
	for i := range env.ins {
		var n int
		if _, err := runErr(env.ins[i], "x.lua", `return 1`); err != nil {
			t.Fatal(err)
		}
		Drain(env.ins[i])
		if v := str(t, env.ins[i], `return n`); v == "1" {
			n = 1
		} else if v != "0" {
			t.Fatalf("worker %d ran the unique event %s times", i, v)
		}
		total += n
	}
	if total != 1 {
		t.Fatalf("unique event handled %d times, want 1", total)
	}
	wantStr(t, "poll inside a callback", env.one(t, 0, `
local r
kong.worker_events.register(function() r = kong.worker_events.poll() end, "s", "p")
kong.worker_events.post_local("s", "p")
return r`), "recursive")
}

func TestWorkerEventsReachGoHandlers(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{})
	var mu sync.Mutex
	var got []string
	env.root.Events.Register(func(ev events.Event) error {
		mu.Lock()
		defer mu.Unlock()
		m, _ := ev.Data.(map[string]any)
		got = append(got, ev.Source+"/"+ev.Event+":"+bind.FormatNumber(m["n"].(float64)))
		return nil
	}, "go", "ev")
	env.do(t, 0, `kong.worker_events.post("go", "ev", { n = 3 })`)
	if strings.Join(got, ",") != "go/ev:3" {
		t.Fatalf("Go handler saw %v", got)
	}
	// And Go posts reach Lua callbacks, as Lua values.
	env.do(t, 0, `kong.worker_events.register(function(data, ev, src, pid) from_go = data.list[2] .. tostring(pid) end, "go", "down")`)
	if err := env.root.Events.Post(-1, "go", "down", map[string]any{"list": []any{"a", "b"}}); err != nil {
		t.Fatal(err)
	}
	wantStr(t, "from Go", env.one(t, 0, `return from_go`), "bnil")
}
