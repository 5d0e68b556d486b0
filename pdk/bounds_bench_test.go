package pdk

import (
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/pdk/lib/cjson"
)

// The request-path cost of issue 14's bounds, each beside what it replaced
// (or the same work without the bound), in one run (the shared dict's is
// in pdk/ngx/shared_bench_test.go):
//
//	go test ./pdk ./pdk/ngx -run '^$' -bench 'Bounds' -benchmem

func BenchmarkBoundsCJSONEncode(b *testing.B) {
	in, _ := newShimState(b)
	v := run(b, in, "v.lua", `return { id = "4e3ad2e4-2a4b-4b5c-9a5e-0c3b7f0e9a11", name = "svc", tags = { "a", "b", "c" },
		config = { minute = 10, hour = 100, policy = "local", fault_tolerant = true, limits = { 1, 2, 3, 4, 5 } } }`)[0]
	for _, budgeted := range []bool{false, true} {
		name := "unbudgeted"
		if budgeted {
			name = "budgeted"
		}
		b.Run(name, func(b *testing.B) {
			budget := in.Budget()
			if !budgeted {
				budget = nil
			}
			c := cjson.NewCodec(in.L, budget, false)
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				in.ResetBudget()
				if _, err := c.Encode(v); err != "" {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBoundsTableNew(b *testing.B) {
	for _, fn := range []string{"rawnew", "budgeted"} {
		b.Run(fn, func(b *testing.B) {
			in, _ := newShimState(b)
			in.L.SetGlobal("rawnew", in.L.NewFunction(func(L *lua.LState) int {
				L.Push(L.CreateTable(L.OptInt(1, 0), L.OptInt(2, 0)))
				return 1
			}))
			run(b, in, "bench.lua", `local new = `+map[string]string{"rawnew": "rawnew", "budgeted": `require "table.new"`}[fn]+`
				function bench(n) for i = 1, n do local t = new(8, 4) end end`)
			b.ReportAllocs()
			b.ResetTimer()
			in.L.Push(in.L.GetGlobal("bench"))
			in.L.Push(lua.LNumber(b.N))
			in.L.Call(1, 0)
		})
	}
}
