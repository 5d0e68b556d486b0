package pdk

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// benchLoop runs a Lua loop of n calls inside one Go->Lua call, so the
// figure is the cost seen from Lua (loop overhead included, ~30 ns).
func benchLoop(b *testing.B, setup, body string) {
	in, _ := newShimState(b, "lua_shared_dicts", "bench 1m")
	run(b, in, "bench.lua", setup+"\nfunction bench(n) for i = 1, n do "+body+" end end")
	fn := in.L.GetGlobal("bench")
	b.ReportAllocs()
	b.ResetTimer()
	in.L.Push(fn)
	in.L.Push(lua.LNumber(b.N))
	in.L.Call(1, 0)
}

func BenchmarkNgxNow(b *testing.B) {
	benchLoop(b, `local now = ngx.now`, `local t = now()`)
}

func BenchmarkSharedDictGet(b *testing.B) {
	benchLoop(b, `local d = ngx.shared.bench d:set("k", "value")`, `local v = d:get("k")`)
}

func BenchmarkSharedDictIncr(b *testing.B) {
	benchLoop(b, `local d = ngx.shared.bench`, `local v = d:incr("k", 1, 0)`)
}

func BenchmarkNgxCtxRead(b *testing.B) {
	benchLoop(b, `ngx.ctx.x = 1`, `local v = ngx.ctx.x`)
}

func BenchmarkKongLogFiltered(b *testing.B) {
	benchLoop(b, `local log = kong.log`, `log.debug("x: ", 1)`)
}

// kong.log read from kong at each call, as plugins write it: a plain
// field, which SetPluginName switches (log.go).
func BenchmarkKongLogReadFiltered(b *testing.B) {
	benchLoop(b, `local kong = kong`, `kong.log.debug("x: ", 1)`)
}

func BenchmarkNgxReFind(b *testing.B) {
	benchLoop(b, `local find = ngx.re.find`, `local f = find("Bearer abc.def", "^Bearer\\s+(.+)$", "jo")`)
}

func BenchmarkEmptyLoop(b *testing.B) {
	benchLoop(b, ``, `local x = i`)
}
