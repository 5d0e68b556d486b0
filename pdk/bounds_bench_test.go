package pdk

import (
	"strconv"
	"sync"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/pdk/lib/cjson"
)

// The request-path cost of issue 14's bounds, each beside what it replaced
// (or the same work without the bound), in one run:
//
//	go test ./pdk -run '^$' -bench 'Bounds' -benchmem

// plainDict is the shared dict before the bounds: a map under a mutex,
// no size, no LRU.
type plainDict struct {
	mu sync.Mutex
	m  map[string]*dictEntry
}

func (d *plainDict) set(k string, v any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.m[k] = &dictEntry{val: v}
}

func (d *plainDict) get(k string) any {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e := d.m[k]; e != nil && !e.expired(time.Now()) {
		return e.val
	}
	return nil
}

func BenchmarkBoundsSharedDict(b *testing.B) {
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "key:" + strconv.Itoa(i)
	}
	b.Run("set/unbounded-map", func(b *testing.B) {
		d := &plainDict{m: map[string]*dictEntry{}}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			d.set(keys[i&1023], "value")
		}
	})
	b.Run("set/lru-sized", func(b *testing.B) {
		d := newSharedDict("b", 1<<20, time.Now)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			d.Set(keys[i&1023], "value", 0, 0)
		}
	})
	b.Run("set-evicting/lru-sized", func(b *testing.B) {
		d := newSharedDict("b", 16<<10, time.Now) // ~200 entries: every set evicts
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			d.Set(keys[i&1023], "value", 0, 0)
		}
	})
	b.Run("get/unbounded-map", func(b *testing.B) {
		d := &plainDict{m: map[string]*dictEntry{}}
		for _, k := range keys {
			d.set(k, "value")
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			d.get(keys[i&1023])
		}
	})
	b.Run("get/lru-sized", func(b *testing.B) {
		d := newSharedDict("b", 1<<20, time.Now)
		for _, k := range keys {
			d.Set(k, "value", 0, 0)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			d.Get(keys[i&1023])
		}
	})
}

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
