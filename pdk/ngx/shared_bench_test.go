package ngx

import (
	"strconv"
	"sync"
	"testing"
	"time"
)

// The request-path cost of issue 14's bound on shared dicts, beside what
// it replaced, in one run (pdk/bounds_bench_test.go has the others):
//
//	go test ./pdk ./pdk/ngx -run '^$' -bench 'Bounds' -benchmem

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
		d := NewSharedDict("b", 1<<20, time.Now)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			d.Set(keys[i&1023], "value", 0, 0)
		}
	})
	b.Run("set-evicting/lru-sized", func(b *testing.B) {
		d := NewSharedDict("b", 16<<10, time.Now) // ~200 entries: every set evicts
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
		d := NewSharedDict("b", 1<<20, time.Now)
		for _, k := range keys {
			d.Set(k, "value", 0, 0)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			d.Get(keys[i&1023])
		}
	})
}
