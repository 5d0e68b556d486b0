package native_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/pdk/pdktest"
)

func gzipped(t *testing.T, n int) string {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return buf.String()
}

// A gzip bomb (32 MB of zeros in ≈ 32 KB) inflates past a 4 MB budget:
// "not enough memory" for the call, not the process; within the budget the
// same code inflates it whole.
func TestInflateBomb(t *testing.T) {
	bomb := gzipped(t, 32<<20)
	in, _ := pdktest.New(t, "lua_memory_budget", "4m")
	in.L.SetGlobal("bomb", lua.LString(bomb))
	if msg := pdktest.LuaErr(t, in, `return require("luahost.native").inflate_gzip(bomb)`); !strings.Contains(msg, "not enough memory") {
		t.Fatalf("inflate of a bomb under a 4 MB budget: %q", msg)
	}
	big, _ := pdktest.New(t, "lua_memory_budget", "64m")
	big.L.SetGlobal("bomb", lua.LString(bomb))
	if got := pdktest.Str(t, big, `return #require("luahost.native").inflate_gzip(bomb)`); got != "33554432" {
		t.Fatalf("inflate within the budget: %s bytes", got)
	}
}

// Inflating and deflating stop at the worker's deadline.
func TestGzipStopsAtDeadline(t *testing.T) {
	in, _ := pdktest.New(t)
	in.L.SetGlobal("data", lua.LString(gzipped(t, 8<<20)))
	in.L.SetGlobal("plain", lua.LString(strings.Repeat("x", 8<<20)))
	// Err reports the deadline while Done never fires: the VM's own
	// per-instruction check does not stop the call, only the binding's can.
	in.L.SetContext(firedErr{context.Background()})
	defer in.L.RemoveContext()
	for _, src := range []string{
		`return require("luahost.native").inflate_gzip(data)`,
		`return require("luahost.native").deflate_gzip(plain)`,
	} {
		if _, err := pdktest.RunErr(in, "t", src); err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
			t.Errorf("%s under a fired deadline: %v", src, err)
		}
	}
}

type firedErr struct{ context.Context }

func (firedErr) Err() error { return context.DeadlineExceeded }
