package host

import (
	"context"
	"log/slog"
	"strings"
	"testing"
)

// A failing init_worker is logged at crit as Kong's init_worker stashes
// it: "worker initialization error: failed to execute the "init_worker"
// handler for plugin "<name>": <error>; this node must be restarted", and
// the node goes on.
func TestInitWorkerErrorLogged(t *testing.T) {
	root := t.TempDir()
	writePlugin(t, root, "iw-error", `return { PRIORITY = 1000, VERSION = "1.0",
  init_worker = function() error("this fails intentionally") end }`)
	c := testConf(t, root)
	c.Set("worker_max", "1", "test")
	logs := &logBuffer{}
	h, err := New(Options{Conf: c, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	w, err := h.Pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h.Pool.Release(w)
	want := `worker initialization error: failed to execute the \"init_worker\" handler for plugin \"iw-error\": ` +
		`kong/plugins/iw-error/handler.lua:2: this fails intentionally; this node must be restarted`
	if got := logs.String(); !strings.Contains(got, want) || !strings.Contains(got, "level_name=crit") {
		t.Errorf("no %s at crit in:\n%s", want, got)
	}
}
