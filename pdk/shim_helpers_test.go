package pdk

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"

	"github.com/luahost/luahost/conf"
)

// logSink collects log records as "<level_name>|<message>".
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (s *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (s *logSink) Handle(_ context.Context, r slog.Record) error {
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
func (s *logSink) WithAttrs([]slog.Attr) slog.Handler { return s }
func (s *logSink) WithGroup(string) slog.Handler      { return s }

func (s *logSink) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

// newShimState opens a fresh state with every namespace; props are
// kong.conf properties (key, value, key, value ...).
func newShimState(t testing.TB, props ...string) (*Instance, *logSink) {
	t.Helper()
	c := conf.New()
	for i := 0; i+1 < len(props); i += 2 {
		c.Set(props[i], props[i+1], "test")
	}
	sink := &logSink{}
	root := &Root{Conf: c, Logger: slog.New(sink), WorkerCount: 2, PID: 4242}
	L := luavm.NewState(luavm.Options{})
	t.Cleanup(L.Close)
	return root.Open(L, 0), sink
}

// run executes src as a chunk named name and returns its results.
func run(t testing.TB, in *Instance, name, src string) []lua.LValue {
	t.Helper()
	vals, err := runErr(in, name, src)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return vals
}

func runErr(in *Instance, name, src string) ([]lua.LValue, error) {
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

// str runs src and returns its first result as a string (tostring'd).
func str(t testing.TB, in *Instance, src string) string {
	t.Helper()
	vals := run(t, in, "test.lua", src)
	if len(vals) == 0 {
		return "<none>"
	}
	return in.L.ToStringMeta(vals[0]).String()
}

// luaErr runs src expecting an error and returns its message.
func luaErr(t testing.TB, in *Instance, src string) string {
	t.Helper()
	_, err := runErr(in, "test.lua", src)
	if err == nil {
		t.Fatalf("expected an error from %q", src)
	}
	if ae, ok := err.(*lua.ApiError); ok {
		return ae.Object.String()
	}
	return err.Error()
}

var _ = bytes.MinRead
