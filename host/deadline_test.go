package host

import (
	"context"
	"errors"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// A deadline is not an error plugin code can swallow: when it fires inside
// a pcall, or inside work done for the handler (a cache callback) whose
// error the handler returns as a value with nothing left to run, the phase
// is still reported as a timeout and the worker replaced.
func TestDeadlineCannotBeSwallowed(t *testing.T) {
	for _, opt := range []string{"swallow", "late"} {
		t.Run(opt, func(t *testing.T) {
			c := testConf(t, "testdata/good")
			c.Set("plugins", "runaway", "test")
			c.Set("lua_timeout", "100", "test")
			c.Set("worker_max", "1", "test")
			h := newTestHost(t, c)
			w, err := h.Pool.Acquire(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			conf := w.L.NewTable()
			conf.RawSetString(opt, lua.LTrue)
			top := w.L.GetTop()
			err = w.RunPhase("runaway", "access", conf)
			var te *TimeoutError
			if !errors.As(err, &te) {
				t.Fatalf("want a TimeoutError, got %T %v", err, err)
			}
			if !w.Poisoned() {
				t.Error("the worker must be replaced")
			}
			if got := w.L.GetTop(); got != top {
				t.Errorf("stack top %d after the call, want %d", got, top)
			}
			h.Pool.Release(w)
			if err := h.Pool.AcquireFunc(context.Background(), func(w *Worker) error {
				return w.RunPhase("runaway", "access", w.L.NewTable())
			}); err != nil {
				t.Fatalf("the pool did not recover: %v", err)
			}
		})
	}
}
