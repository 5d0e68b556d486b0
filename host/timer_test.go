package host

import (
	"context"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// waitShared polls ngx.shared.kong for key while the pool sits idle.
func waitShared(t *testing.T, h *Host, key string) string {
	t.Helper()
	dict := h.Root.SharedDict("kong")
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if v, _ := dict.Get(key); v != nil {
			s, _ := v.(string)
			return s
		}
		time.Sleep(5 * time.Millisecond) // polling interval
	}
	t.Fatalf("ngx.shared.kong %q was never written: the timer did not run", key)
	return ""
}

// A timer set by init_worker, and one set by access, run in their worker
// while the pool is idle (no request borrows the worker to drain it), in
// phase "timer" with a fresh ngx.ctx and their arguments.
func TestTimersRunWhileThePoolIsIdle(t *testing.T) {
	c := testConf(t, "testdata/timer")
	c.Set("plugins", "timer-writer", "test")
	c.Set("worker_min", "1", "test")
	c.Set("worker_max", "1", "test")
	h := newTestHost(t, c)

	if got := waitShared(t, h, "timer:init_worker:0"); got != "timer|false|nil|init|0" {
		t.Fatalf("init_worker timer saw %q", got)
	}

	w, err := h.Pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	conf := w.L.NewTable()
	conf.RawSetString("tag", lua.LString("access"))
	if err := w.RunPhase("timer-writer", "access", conf); err != nil {
		t.Fatal(err)
	}
	// The zero-delay timer waits while the request holds the worker (the
	// worker's busy lock keeps the idle drainer out; no sleep can prove a
	// negative, so this checks the state the request sees).
	if v, _ := h.Root.SharedDict("kong").Get("timer:access"); v != nil {
		t.Fatalf("the timer ran while the request held the worker: %v", v)
	}
	h.Pool.Release(w)
	if got := waitShared(t, h, "timer:access"); got != "timer|false|nil|request ctx|0" {
		t.Fatalf("access timer saw %q", got)
	}
}
