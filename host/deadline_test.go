package host

import (
	"context"
	"errors"
	"strings"
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

// Options.OnDeadlineStop is told of each call lua_timeout stopped, with
// the plugin and the phase, and of no other failure.
func TestOnDeadlineStop(t *testing.T) {
	c := testConf(t, "testdata/good")
	c.Set("plugins", "runaway", "test")
	c.Set("lua_timeout", "100", "test")
	c.Set("worker_max", "1", "test")
	var stops []string
	h, err := New(Options{Conf: c, Logger: quietLogger(), OnDeadlineStop: func(plugin, phase string) {
		stops = append(stops, plugin+"/"+phase)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	run := func(phase, opt string) error {
		return h.Pool.AcquireFunc(context.Background(), func(w *Worker) error {
			conf := w.L.NewTable()
			if opt != "" {
				conf.RawSetString(opt, lua.LTrue)
			}
			return w.RunPhase("runaway", phase, conf)
		})
	}
	if err := run("access", "spin"); err == nil {
		t.Fatal("spin: no error")
	}
	if err := run("log", ""); err == nil { // an error, not a deadline
		t.Fatal("log: no error")
	}
	if err := run("access", "swallow"); err == nil {
		t.Fatal("swallow: no error")
	}
	if got := strings.Join(stops, " "); got != "runaway/access runaway/access" {
		t.Fatalf("stops: %q", got)
	}
}
