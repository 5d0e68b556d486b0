package admin

import (
	"context"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/host"
)

// GET /timers answers Kong's shape (worker, stats.sys, stats.timers by
// name, stats.flamegraph): a timer whose callback is running reports
// is_running, a pending repeating one does not; once the one-shot has run
// it is gone, as lua-resty-timer-ng forgets it, and counted in sys.runs.
func TestTimersEndpoint(t *testing.T) {
	c := testConf()
	c.Set("worker_min", "1", "test")
	c.Set("worker_max", "1", "test")
	h := newHost(t, c)
	n := startAdmin(t, h)

	started, release := make(chan struct{}), make(chan struct{})
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	err := h.Pool.AcquireFunc(context.Background(), func(w *host.Worker) error {
		w.L.SetGlobal("hold", w.L.NewFunction(func(L *lua.LState) int {
			close(started)
			<-release
			return 0
		}))
		return w.DoString("timers.lua", `assert(kong.timer:named_at("held", 0, function() hold() end))
assert(kong.timer:named_every("tick", 3600, function() end))`)
	})
	if err != nil {
		t.Fatal(err)
	}
	// the idle worker runs the due timer, which waits in hold
	<-started
	body := n.must(200, "GET", "/timers", nil)
	if w, _ := body["worker"].(M); w["id"] != 0.0 || w["count"] != 1.0 {
		t.Fatalf("worker: %v", body["worker"])
	}
	stats, _ := body["stats"].(M)
	sys, _ := stats["sys"].(M)
	if sys["running"] != 1.0 || sys["total"] != 2.0 || sys["waiting"] != 1.0 || sys["runs"] != 0.0 {
		t.Fatalf("sys while held runs: %v", sys)
	}
	timers, _ := stats["timers"].(M)
	held, _ := timers["held"].(M)
	tick, _ := timers["tick"].(M)
	if held["name"] != "held" || held["is_running"] != true || tick["is_running"] != false {
		t.Fatalf("timers: %v", timers)
	}
	if meta, _ := held["meta"].(M); meta["name"] != "debug off" {
		t.Fatalf("meta (log_level is not debug): %v", held["meta"])
	}
	if st, _ := held["stats"].(M); st["runs"] != 1.0 || st["finish"] != 0.0 {
		t.Fatalf("held's stats while it runs: %v", st)
	}
	if fg, _ := stats["flamegraph"].(M); fg == nil || fg["running"] != "" {
		t.Fatalf("flamegraph (nothing recorded with debug off): %v", stats["flamegraph"])
	}

	close(release)
	released = true
	// the pool's one worker is free again once the timer has returned
	if err := h.Pool.AcquireFunc(context.Background(), func(*host.Worker) error { return nil }); err != nil {
		t.Fatal(err)
	}
	body = n.must(200, "GET", "/timers", nil)
	stats, _ = body["stats"].(M)
	timers, _ = stats["timers"].(M)
	if _, ok := timers["held"]; ok || timers["tick"] == nil {
		t.Fatalf("timers after held ran: %v", timers)
	}
	if sys, _ := stats["sys"].(M); sys["running"] != 0.0 || sys["total"] != 1.0 || sys["runs"] != 1.0 {
		t.Fatalf("sys after held ran: %v", sys)
	}
}
