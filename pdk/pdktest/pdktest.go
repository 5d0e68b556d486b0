// Package pdktest is the test kit for code bound into a worker by pdk
// (the libraries under pdk/lib, pdk/request): a fresh state with every
// namespace installed, and helpers that run Lua in it.
//
// pdk's own tests cannot import it (pdktest imports pdk) and keep their
// copy of these helpers in pdk/shim_helpers_test.go.
package pdktest

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk"
)

// LogSink collects log records as "<level_name>|<message>".
type LogSink struct {
	mu    sync.Mutex
	lines []string
}

// Enabled is slog.Handler's: every level is collected.
func (s *LogSink) Enabled(context.Context, slog.Level) bool { return true }

// Handle is slog.Handler's: it records r.
func (s *LogSink) Handle(_ context.Context, r slog.Record) error {
	lvl := ""
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "level_name" {
			lvl = a.Value.String()
		}
		return true
	})
	s.mu.Lock()
	s.lines = append(s.lines, lvl+"|"+r.Message)
	s.mu.Unlock()
	return nil
}

// WithAttrs is slog.Handler's: attributes are not collected.
func (s *LogSink) WithAttrs([]slog.Attr) slog.Handler { return s }

// WithGroup is slog.Handler's: groups are not collected.
func (s *LogSink) WithGroup(string) slog.Handler { return s }

// All returns the lines collected so far.
func (s *LogSink) All() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

// New opens a fresh state with every namespace (worker 0 of 2, pid 4242);
// props are kong.conf properties (key, value, key, value ...). The state
// is closed when the test ends.
func New(t testing.TB, props ...string) (*pdk.Instance, *LogSink) {
	t.Helper()
	c := conf.New()
	for i := 0; i+1 < len(props); i += 2 {
		c.Set(props[i], props[i+1], "test")
	}
	sink := &LogSink{}
	root := &pdk.Root{Conf: c, Logger: slog.New(sink), WorkerCount: 2, PID: 4242}
	L := luavm.NewState(luavm.Options{})
	t.Cleanup(L.Close)
	return root.Open(L, 0), sink
}

// Run executes src as a chunk named name and returns its results, failing
// the test on an error.
func Run(t testing.TB, in *pdk.Instance, name, src string) []lua.LValue {
	t.Helper()
	vals, err := RunErr(in, name, src)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return vals
}

// RunErr executes src as a chunk named name and returns its results or
// its error.
func RunErr(in *pdk.Instance, name, src string) ([]lua.LValue, error) {
	L := in.L
	proto, err := luavm.Compile(name, []byte(src))
	if err != nil {
		return nil, err
	}
	top := L.GetTop()
	L.Push(L.NewFunctionFromProto(proto))
	if err := luavm.PCall(L, 0, lua.MultRet, false); err != nil {
		return nil, err
	}
	out := make([]lua.LValue, 0, L.GetTop()-top)
	for i := top + 1; i <= L.GetTop(); i++ {
		out = append(out, L.Get(i))
	}
	L.SetTop(top)
	return out, nil
}

// Str runs src and returns its first result as a string (tostring'd).
func Str(t testing.TB, in *pdk.Instance, src string) string {
	t.Helper()
	vals := Run(t, in, "test.lua", src)
	if len(vals) == 0 {
		return "<none>"
	}
	return in.L.ToStringMeta(vals[0]).String()
}

// LuaErr runs src expecting an error and returns its message.
func LuaErr(t testing.TB, in *pdk.Instance, src string) string {
	t.Helper()
	_, err := RunErr(in, "test.lua", src)
	if err == nil {
		t.Fatalf("expected an error from %q", src)
	}
	if ae, ok := err.(*lua.ApiError); ok {
		return ae.Object.String()
	}
	return err.Error()
}
