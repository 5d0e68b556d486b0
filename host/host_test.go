package host

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/conf"
)

func testConf(t testing.TB, dirs ...string) *conf.Config {
	t.Helper()
	c := conf.New()
	for _, d := range dirs {
		c.Append("plugins_dir", d, "test")
	}
	c.Set("lua_package_path", "", "test")
	c.Set("mem_cache_size", "4m", "test")
	return c
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTestHost(t testing.TB, c *conf.Config) *Host {
	t.Helper()
	h, err := New(Options{Conf: c, Logger: quietLogger()})
	if err != nil {
		var pe *PluginErrors
		if errors.As(err, &pe) {
			t.Fatalf("load: %s", pe.Detailed())
		}
		t.Fatalf("load: %v", err)
	}
	t.Cleanup(h.Close)
	return h
}

// Every broken plugin is reported at once, each error naming the plugin,
// the file and the line.
func TestBrokenPluginsAreAllReported(t *testing.T) {
	_, err := New(Options{Conf: testConf(t, "testdata/broken"), Logger: quietLogger()})
	var pe *PluginErrors
	if !errors.As(err, &pe) {
		t.Fatalf("want *PluginErrors, got %v", err)
	}
	want := map[string]struct {
		file string
		line int
		msg  string
	}{
		"bad-daos":    {"kong/plugins/bad-daos/daos.lua", 7, "\n\t '}' expected (to close '{' at line 5) near '{'"},
		"bad-schema":  {"kong/plugins/bad-schema/schema.lua", 7, "attempt to index"},
		"no-priority": {"kong/plugins/no-priority/handler.lua", 8, `Plugin "no-priority" cannot be loaded because its PRIORITY field is not a valid integer number, got: "nil".`},
	}
	if len(pe.Errs) != len(want) {
		t.Fatalf("want %d errors, got %d:\n%s", len(want), len(pe.Errs), pe.Detailed())
	}
	for _, le := range pe.Errs {
		w, ok := want[le.Plugin]
		if !ok {
			t.Errorf("unexpected error for plugin %q: %v", le.Plugin, le)
			continue
		}
		if le.File != w.file || le.Line != w.line || !strings.Contains(le.Msg, w.msg) {
			t.Errorf("%s: got file=%q line=%d msg=%q; want file=%q line=%d msg containing %q",
				le.Plugin, le.File, le.Line, le.Msg, w.file, w.line, w.msg)
		}
		s := le.Error()
		if !strings.Contains(s, "plugin '"+le.Plugin+"'") || !strings.Contains(s, w.file) {
			t.Errorf("message does not name plugin and file: %s", s)
		}
		if le.Excerpt() == "" {
			t.Errorf("%s: no source excerpt", le.Plugin)
		}
	}
}

// A runaway loop in a handler is stopped within its deadline; the error
// names plugin and phase; the pool keeps serving.
func TestRunawayHandlerIsStopped(t *testing.T) {
	c := testConf(t, "testdata/good")
	c.Set("plugins", "runaway", "test")
	c.Set("lua_timeout", "100", "test")
	c.Set("worker_max", "2", "test")
	h := newTestHost(t, c)
	ctx := context.Background()

	w, err := h.Pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	spin := w.L.NewTable()
	spin.RawSetString("spin", lua.LTrue)
	// an endless loop: that it returns, with a TimeoutError, shows the
	// deadline stopped it (no time bound asserted)
	err = w.RunPhase("runaway", "access", spin)
	if err == nil {
		t.Fatal("runaway loop was not stopped")
	}
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("want a TimeoutError, got %T %v", err, err)
	}
	msg := err.Error()
	for _, part := range []string{"plugin 'runaway'", "(access)", "kong/plugins/runaway/handler.lua:8", "deadline"} {
		if !strings.Contains(msg, part) {
			t.Errorf("error %q does not contain %q", msg, part)
		}
	}
	if !w.Poisoned() {
		t.Error("a worker stopped by its deadline must be replaced")
	}
	h.Pool.Release(w)

	// The pool keeps serving, and the same handler runs normally.
	for i := 0; i < 5; i++ {
		err := h.Pool.AcquireFunc(ctx, func(w *Worker) error {
			return w.RunPhase("runaway", "access", w.L.NewTable())
		})
		if err != nil {
			t.Fatalf("pool did not recover: %v", err)
		}
	}
	if st := h.Pool.Stat(); st.Discarded != 1 {
		t.Errorf("want 1 discarded worker, got %+v", st)
	}
}

// A Lua error in a phase is reported with plugin, phase, file and line and
// does not poison the worker.
func TestLuaErrorDoesNotPoisonWorker(t *testing.T) {
	c := testConf(t, "testdata/good")
	c.Set("plugins", "runaway", "test")
	c.Set("worker_max", "1", "test")
	h := newTestHost(t, c)
	w, err := h.Pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	err = w.RunPhase("runaway", "log", lua.LNil)
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("want *LoadError, got %v", err)
	}
	if le.Plugin != "runaway" || le.Phase != "log" || le.File != "kong/plugins/runaway/handler.lua" ||
		le.Line != lineOf(t, "testdata/good/runaway/handler.lua", `error("log phase failed on purpose")`) ||
		!strings.Contains(le.Msg, "log phase failed on purpose") {
		t.Fatalf("bad error: %+v", le)
	}
	if w.Poisoned() {
		t.Fatal("a Lua error must not poison the worker")
	}
	if err := w.RunPhase("runaway", "access", w.L.NewTable()); err != nil {
		t.Fatal(err)
	}
	h.Pool.Release(w)
	if st := h.Pool.Stat(); st.Total != 1 || st.Discarded != 0 {
		t.Fatalf("pool changed: %+v", st)
	}
}

// A worker is never handed to two goroutines at once, and the pool stays
// within max.
func TestPoolBounds(t *testing.T) {
	c := testConf(t, "testdata/good")
	c.Set("plugins", "runaway", "test")
	c.Set("worker_max", "3", "test")
	h := newTestHost(t, c)
	ctx := context.Background()
	held := map[*Worker]bool{}
	var ws []*Worker
	for i := 0; i < 3; i++ {
		w, err := h.Pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if held[w] {
			t.Fatal("worker handed out twice")
		}
		held[w] = true
		ws = append(ws, w)
	}
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := h.Pool.Acquire(tctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a full pool must make Acquire wait, got %v", err)
	}
	ids := map[int]bool{}
	for _, w := range ws {
		ids[w.ID] = true
		h.Pool.Release(w)
	}
	if len(ids) != 3 {
		t.Fatalf("worker ids not distinct: %v", ids)
	}
	done := make(chan struct{})
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 50; i++ {
				_ = h.Pool.AcquireFunc(ctx, func(w *Worker) error {
					return w.RunPhase("runaway", "access", w.L.NewTable())
				})
			}
			done <- struct{}{}
		}()
	}
	for g := 0; g < 8; g++ {
		<-done
	}
	if st := h.Pool.Stat(); st.Total > 3 {
		t.Fatalf("pool grew past max: %+v", st)
	}
}

func writeFile(p, s string) error { return os.WriteFile(p, []byte(s), 0o644) }

// lineOf is the 1-based line of file holding text.
func lineOf(t *testing.T, file, text string) int {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(src), "\n") {
		if strings.Contains(l, text) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line with %q", file, text)
	return 0
}

// A configuration value that does not parse stops host.New with Kong's
// message, for Go callers too (not only the CLI).
func TestNewRefusesUnparsableConf(t *testing.T) {
	c := testConf(t, "testdata/good")
	c.Set("pg_port", "abc", "test")
	h, err := New(Options{Conf: c})
	if err == nil {
		h.Close()
		t.Fatal("host.New accepted pg_port = abc")
	}
	if !strings.Contains(err.Error(), "pg_port is not a number: 'abc'") {
		t.Fatalf("got %v", err)
	}
}

// node_id in the configuration is the node's id (kong.node.get_id), as
// Kong's kong.node takes it.
func TestNodeIDFromConf(t *testing.T) {
	c := testConf(t)
	c.Set("node_id", "592e1c2b-6678-45aa-80f9-78cfb29f5e31", "test")
	h := newTestHost(t, c)
	if got := h.Root.NodeIDValue(); got != "592e1c2b-6678-45aa-80f9-78cfb29f5e31" {
		t.Fatalf("node id %q", got)
	}
	if got := newTestHost(t, testConf(t)).Root.NodeIDValue(); len(got) != 36 || got == "592e1c2b-6678-45aa-80f9-78cfb29f5e31" {
		t.Fatalf("generated node id %q", got)
	}
}
