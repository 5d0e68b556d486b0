package pdk

import (
	"context"
	"sync/atomic"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/internal/proccpu"
)

// The benchmarks run a Lua loop of b.N kong.cache:get calls, so the figures
// include the Lua -> Go call (ANCHORS §3.4: an empty loop iteration is about
// 30 ns). The value is a credential-like table of 6 fields.
const benchLua = `
local cache = kong.cache
local function load()
  return { id = "8c6f3ab4-2c38-4cf0-8f34-9ab0d3f2a8a1", key = "secret-key", created_at = 1700000000,
           consumer = { id = "0c3d9e0e-7b4a-4bb1-a1a4-4a7e8c8f5d11" }, ttl = 3600, tags = { "a", "b" } }
end
function bench_l1(n)
  for i = 1, n do cache:get("hot", nil, load) end
end
function bench_l2(n)
  for i = 1, n do
    if i % 2 == 0 then cache:get("a", nil, load) else cache:get("b", nil, load) end
  end
end
function bench_miss(n)
  for i = 1, n do cache:get("k" .. i, nil, load) end
end
function bench_loop(n)
  for i = 1, n do end
end
function bench_build(n)
  for i = 1, n do load() end
end
`

func benchCache(b *testing.B, fn string, withCtx bool, props ...string) {
	env := newCacheEnv(b, cacheEnvOpts{props: append([]string{"mem_cache_size", "16m"}, props...)})
	in := env.ins[0]
	env.do(b, 0, benchLua)
	env.do(b, 0, `bench_l1(1); bench_l2(2)`)
	if withCtx {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		in.L.SetContext(ctx)
	}
	f := in.L.GetGlobal(fn)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := proccpu.Now()
	if err := in.L.CallByParam(lua.P{Fn: f, NRet: 0, Protect: true}, lua.LNumber(b.N)); err != nil {
		b.Fatal(err)
	}
	// CPU time of the process per op (GC included): steadier than wall
	// time on a shared machine.
	b.ReportMetric(float64(proccpu.Now()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkCacheFromLua: L1 hit (budget 300 ns), L2 hit (3 µs: freecache
// read + decode into a new table + L1 store; L1 of one item, two keys
// alternating), miss with callback (unique keys: callback + encode + L2
// store + L1 store), and for reference the empty loop and building the
// same table in Lua. "ctx" runs with a
// context on the state, as the host's workers do.
func BenchmarkCacheFromLua(b *testing.B) {
	for _, ctx := range []bool{false, true} {
		suffix := ""
		if ctx {
			suffix = "/ctx"
		}
		b.Run("L1_hit"+suffix, func(b *testing.B) { benchCache(b, "bench_l1", ctx) })
		b.Run("L2_hit"+suffix, func(b *testing.B) { benchCache(b, "bench_l2", ctx, "luahost_l1_cache_size", "1") })
		// An L1 of 1000 items: with Kong's 500 000 the loop would also
		// measure the GC of half a million retained tables.
		b.Run("miss_callback"+suffix, func(b *testing.B) { benchCache(b, "bench_miss", ctx, "luahost_l1_cache_size", "1000") })
		b.Run("empty_loop"+suffix, func(b *testing.B) { benchCache(b, "bench_loop", ctx) })
		// Building the cached table in Lua: the floor of an L2 hit, which
		// must build a new table too.
		b.Run("lua_table_build"+suffix, func(b *testing.B) { benchCache(b, "bench_build", ctx) })
	}
}

// BenchmarkCacheObserverL1Hit: an L1 hit with a CacheObserver counting
// into an atomic (what metrics.Recorder.CacheGet does), against none.
func BenchmarkCacheObserverL1Hit(b *testing.B) {
	for _, observed := range []bool{false, true} {
		name := "none"
		if observed {
			name = "observer"
		}
		b.Run(name, func(b *testing.B) {
			env := newCacheEnv(b, cacheEnvOpts{props: []string{"mem_cache_size", "16m"}})
			in := env.ins[0]
			env.do(b, 0, benchLua)
			env.do(b, 0, `bench_l1(1)`)
			var hits atomic.Int64
			if observed {
				env.root.SetCacheObserver(func(cache string, level int) {
					if level == 1 {
						hits.Add(1)
					}
				})
			}
			f := in.L.GetGlobal("bench_l1")
			b.ReportAllocs()
			b.ResetTimer()
			if err := in.L.CallByParam(lua.P{Fn: f, NRet: 0, Protect: true}, lua.LNumber(b.N)); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if observed && hits.Load() < int64(b.N) {
				b.Fatalf("observed %d of %d", hits.Load(), b.N)
			}
		})
	}
}
