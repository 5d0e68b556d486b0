package luavm

import (
	"fmt"
	"os"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// The string benchmarks run each workload in a state with gopher-lua's own
// string library ("gopherlua", before) and in one opened by OpenLibs
// ("luahost", after), in the same run.

func benchStates(b *testing.B) []struct {
	name string
	L    *lua.LState
} {
	stock := lua.NewState()
	ours := NewState(Options{})
	b.Cleanup(func() { stock.Close(); ours.Close() })
	return []struct {
		name string
		L    *lua.LState
	}{{"gopherlua", stock}, {"luahost", ours}}
}

// benchCall compiles src (a chunk returning a function) in L and calls
// that function with args b.N times.
func benchCall(b *testing.B, L *lua.LState, src string, args ...lua.LValue) {
	b.Helper()
	if err := L.DoString(src); err != nil {
		b.Fatal(err)
	}
	fn := L.Get(-1)
	L.Pop(1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}, args...); err != nil {
			b.Fatal(err)
		}
		L.Pop(1)
	}
}

// BenchmarkGsub: a body with one space every ten bytes, each replaced
// (20 KB: 2 K matches, 200 KB: 20 K, 2 MB: 200 K), with a string and with
// a Lua function. gopher-lua's gsub is quadratic: on 2 MB it ran for
// minutes without finishing, so its 2 MB runs only with
// LUAHOST_BENCH_SLOW=1 (and -timeout 0).
func BenchmarkGsub(b *testing.B) {
	for _, size := range []int{20_000, 200_000, 2_000_000} {
		body := lua.LString(strings.Repeat("abcdefghi ", size/10))
		for _, st := range benchStates(b) {
			if st.name == "gopherlua" && size > 200_000 && os.Getenv("LUAHOST_BENCH_SLOW") == "" {
				continue
			}
			for _, r := range []struct{ name, src string }{
				{"string", `return function(s) local r, n = s:gsub(" ", "_") assert(n == %d) return r end`},
				{"function", `return function(s) local r, n = s:gsub("(%%w+) ", function(w) return w end) assert(n == %d) return r end`},
			} {
				b.Run(fmt.Sprintf("%s/%s/%dKB", st.name, r.name, size/1000), func(b *testing.B) {
					b.SetBytes(int64(len(body)))
					benchCall(b, st.L, fmt.Sprintf(r.src, size/10), body)
				})
			}
		}
	}
}

// BenchmarkMatchShort: the request path, a header matched per request.
func BenchmarkMatchShort(b *testing.B) {
	for _, st := range benchStates(b) {
		b.Run(st.name, func(b *testing.B) {
			benchCall(b, st.L, `return function(s) return (s:match("^Bearer%s+(.+)$")) end`, lua.LString("Bearer abc.def.ghi"))
		})
	}
}

// BenchmarkFindShort: a plain find and a pattern find on a short string.
func BenchmarkFindShort(b *testing.B) {
	for _, st := range benchStates(b) {
		b.Run(st.name+"/plain", func(b *testing.B) {
			benchCall(b, st.L, `return function(s) return (s:find("json", 1, true)) end`, lua.LString("application/json; charset=utf-8"))
		})
		b.Run(st.name+"/pattern", func(b *testing.B) {
			benchCall(b, st.L, `return function(s) return (s:find("^application/.*json")) end`, lua.LString("application/json; charset=utf-8"))
		})
	}
}

// BenchmarkFormatShort: a log line.
func BenchmarkFormatShort(b *testing.B) {
	for _, st := range benchStates(b) {
		b.Run(st.name, func(b *testing.B) {
			benchCall(b, st.L, `return function(s) return string.format("%s %d %.3f %5s", s, 42, 0.25, "x") end`, lua.LString("GET"))
		})
	}
}
