package host

import (
	"context"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/pdk"
)

// Every protected call the host makes into a plugin (phases, kong.cache
// callbacks, worker-event handlers, timers) keeps the upvalues of frames
// that are still live after an error is caught, as Lua 5.1 does
// (gopher-lua#448 detached them).
func TestUpvaluesSurviveCaughtErrorsInEveryHostCall(t *testing.T) {
	c := testConf(t, "testdata/upvalues")
	c.Set("plugins", "upvalue-keeper", "test")
	c.Set("worker_min", "1", "test")
	c.Set("worker_max", "1", "test")
	h := newTestHost(t, c)
	w, err := h.Pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Pool.Release(w)
	if err := w.RunPhase("upvalue-keeper", "access", w.L.NewTable()); err != nil {
		t.Fatal(err)
	}
	pdk.Drain(w.In) // the worker event and the timer
	results, ok := w.L.GetGlobal("UPVALUE_RESULTS").(*lua.LTable)
	if !ok {
		t.Fatal("no UPVALUE_RESULTS")
	}
	for key, want := range map[string]string{
		"init_worker": "failure", "access": "failure", "access_local": "after",
		"callback": "failure", "event": "failure", "timer": "failure",
	} {
		if got := results.RawGetString(key).String(); got != want {
			t.Errorf("%s: %s, want %s", key, got, want)
		}
	}
}
