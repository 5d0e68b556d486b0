package pdk

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// Every kong.cache / kong.core_cache get and get_bulk operation reports
// its hit level to the Root's CacheObserver: L1 and L2 hits, the callback
// runs and gets with nothing cached and no callback (misses).
func TestCacheObserver(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{workers: 2})
	for i := range env.ins {
		env.do(t, i, loaderLua)
	}
	var mu sync.Mutex
	var seen []string
	env.root.SetCacheObserver(func(cache string, level int) {
		mu.Lock()
		seen = append(seen, fmt.Sprintf("%s:%d", cache, level))
		mu.Unlock()
	})
	env.do(t, 0, `kong.cache:get("k", nil, load, "v")`)      // callback: 3
	env.do(t, 0, `kong.cache:get("k", nil, load, "v")`)      // L1
	env.do(t, 1, `kong.cache:get("k", nil, load, "v")`)      // L2 (other worker)
	env.do(t, 0, `kong.cache:get("absent")`)                 // not cached, no callback: -1
	env.do(t, 0, `kong.core_cache:get("c", nil, load, "v")`) // core cache: 3
	env.do(t, 0, `kong.cache:get("e", nil, load_err, "down")`)
	env.do(t, 0, `kong.cache:get_bulk({ "k", nil, load, "v", "b", nil, load, "w", n = 2 })`) // L1, then 3
	got := strings.Join(seen, " ")
	want := "kong.cache:3 kong.cache:1 kong.cache:2 kong.cache:-1 kong.core_cache:3 kong.cache:3 kong.cache:1 kong.cache:3"
	if got != want {
		t.Fatalf("observed %q\nwant     %q", got, want)
	}
	// removed: nothing more is reported
	env.root.SetCacheObserver(nil)
	env.do(t, 0, `kong.cache:get("k", nil, load, "v")`)
	if len(seen) != 8 {
		t.Fatalf("observer still called: %q", seen)
	}
}

// The observer costs the L1 hit path no allocation.
func TestCacheObserverAllocs(t *testing.T) {
	env := newCacheEnv(t, cacheEnvOpts{})
	env.do(t, 0, loaderLua)
	var hits [5]int
	env.root.SetCacheObserver(func(cache string, level int) {
		if level >= 1 && level < len(hits) {
			hits[level]++
		}
	})
	L := env.ins[0].L
	env.do(t, 0, `kong.cache:get("k", nil, load, "v")`)
	if err := L.DoString(`function hit() return kong.cache:get("k", nil, load, "v") end`); err != nil {
		t.Fatal(err)
	}
	fn := L.GetGlobal("hit")
	allocs := testing.AllocsPerRun(200, func() {
		L.Push(fn)
		L.Call(0, 3)
		L.Pop(3)
	})
	if hits[1] < 200 {
		t.Fatalf("L1 hits observed: %d", hits[1])
	}
	if allocs > 0 {
		t.Fatalf("an L1 hit allocates %.1f times with an observer", allocs)
	}
}
