package cache

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/luahost/luahost/conf"
)

// fakeClock is an injectable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 250_000_000)} }

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestCache(clk *fakeClock, cfg Config) *Cache {
	cfg.Now = clk.Now
	cfg.Size = 1 << 20
	cfg.MissSize = 1 << 20
	return New(cfg)
}

// valueLoader returns v (nil = a negative result) and counts its runs.
func valueLoader(v any, calls *atomic.Int64) LoaderFunc {
	return func(e *Encoder) (TTLOverride, error) {
		calls.Add(1)
		return TTLOverride{}, AppendValue(e, v)
	}
}

func mustGetValue(t *testing.T, c *Cache, key string) (any, bool) {
	t.Helper()
	v, found, err := c.GetValue(key)
	if err != nil {
		t.Fatalf("GetValue(%q): %v", key, err)
	}
	return v, found
}

func TestGetOrLoadHitLevels(t *testing.T) {
	c := newTestCache(newClock(), Config{})
	var calls atomic.Int64
	cred := map[string]any{"key": "abc", "consumer": map[string]any{"id": "c1"}}
	ctx := context.Background()

	r, err := c.GetOrLoad(ctx, "keyauth_credentials:abc:::::", nil, valueLoader(cred, &calls), nil)
	if err != nil || r.Hit != HitLoader {
		t.Fatalf("cold get: hit %d, err %v; want hit 3", r.Hit, err)
	}
	if got, _ := Unmarshal(r.Value); !reflect.DeepEqual(got, cred) {
		t.Fatalf("loader result = %#v", got)
	}
	r, err = c.GetOrLoad(ctx, "keyauth_credentials:abc:::::", nil, valueLoader("other", &calls), nil)
	if err != nil || r.Hit != HitL2 {
		t.Fatalf("warm get: hit %d, err %v; want hit 2", r.Hit, err)
	}
	if got, _ := Unmarshal(r.Value); !reflect.DeepEqual(got, cred) {
		t.Fatalf("L2 value = %#v", got)
	}
	if calls.Load() != 1 {
		t.Fatalf("loader ran %d times", calls.Load())
	}
	if r, _ := c.Get("absent", nil); r.Hit != HitMiss || r.Found() {
		t.Fatalf("Get of an absent key: %+v", r)
	}
	if r, _ := c.GetOrLoad(ctx, "absent", nil, nil, nil); r.Hit != HitMiss {
		t.Fatalf("GetOrLoad without loader: hit %d, want -1", r.Hit)
	}
}

func TestNegativeCaching(t *testing.T) {
	clk := newClock()
	c := newTestCache(clk, Config{TTL: 0, NegTTL: 2 * time.Second})
	var calls atomic.Int64
	ctx := context.Background()
	for i, want := range []int{HitLoader, HitL2} {
		r, err := c.GetOrLoad(ctx, "consumers:nobody", nil, valueLoader(nil, &calls), nil)
		if err != nil || r.Hit != want || !r.Nil || r.Value != nil {
			t.Fatalf("get #%d: %+v, %v; want a nil with hit %d", i, r, err, want)
		}
	}
	if v, found := mustGetValue(t, c, "consumers:nobody"); !found || v != nil {
		t.Fatalf("GetValue of a cached nil = %v, %v", v, found)
	}
	clk.Add(2*time.Second - time.Millisecond)
	if r, _ := c.Probe("consumers:nobody", nil); !r.Found() || !r.Nil || r.TTL != time.Millisecond {
		t.Fatalf("probe just before neg_ttl: %+v", r)
	}
	clk.Add(time.Millisecond)
	if r, _ := c.Probe("consumers:nobody", nil); r.Found() {
		t.Fatalf("negative entry outlived neg_ttl: %+v", r)
	}
	if calls.Load() != 1 {
		t.Fatalf("loader ran %d times", calls.Load())
	}
}

func TestTTLSubSecondExpiry(t *testing.T) {
	clk := newClock()
	c := newTestCache(clk, Config{TTL: 1500 * time.Millisecond})
	if err := c.SetValue("k", "v", nil); err != nil {
		t.Fatal(err)
	}
	clk.Add(1499 * time.Millisecond)
	if v, found := mustGetValue(t, c, "k"); !found || v != "v" {
		t.Fatalf("value gone before its ttl: %v %v", v, found)
	}
	clk.Add(time.Millisecond)
	if _, found := mustGetValue(t, c, "k"); found {
		t.Fatal("value still served at its ttl")
	}

	// A per-call ttl, and ttl 0 = never expires (db_cache_ttl's default).
	if err := c.SetValue("short", 1.0, &Opts{TTL: 100 * time.Millisecond, Has: HasTTL}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetValue("forever", 1.0, &Opts{TTL: 0, Has: HasTTL}); err != nil {
		t.Fatal(err)
	}
	clk.Add(100 * time.Millisecond)
	if _, found := mustGetValue(t, c, "short"); found {
		t.Fatal("opts.ttl ignored")
	}
	clk.Add(365 * 24 * time.Hour)
	if r, _ := c.Probe("forever", nil); !r.Found() || r.TTL != 0 {
		t.Fatalf("ttl 0 entry: %+v", r)
	}
}

func TestLoaderTTLOverride(t *testing.T) {
	clk := newClock()
	c := newTestCache(clk, Config{TTL: time.Hour})
	ctx := context.Background()
	load := func(ttl time.Duration) LoaderFunc {
		return func(e *Encoder) (TTLOverride, error) {
			e.String("v")
			return TTLOverride{TTL: ttl, Set: true}, nil
		}
	}
	if _, err := c.GetOrLoad(ctx, "k", nil, load(300*time.Millisecond), nil); err != nil {
		t.Fatal(err)
	}
	if r, _ := c.Probe("k", nil); r.TTL != 300*time.Millisecond {
		t.Fatalf("ttl override: remaining %v", r.TTL)
	}
	r, err := c.GetOrLoad(ctx, "uncached", nil, load(-1), nil)
	if err != nil || r.Hit != HitLoader || string(r.Value[2:]) != "v" {
		t.Fatalf("ttl < 0: %+v %v", r, err)
	}
	if r, _ := c.Probe("uncached", nil); r.Found() {
		t.Fatal("a value with a negative ttl override was cached")
	}
}

func TestLoaderErrorNotCached(t *testing.T) {
	c := newTestCache(newClock(), Config{})
	ctx := context.Background()
	boom := errors.New("db down")
	_, err := c.GetOrLoad(ctx, "k", nil, LoaderFunc(func(e *Encoder) (TTLOverride, error) {
		return TTLOverride{}, boom
	}), nil)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if r, _ := c.Probe("k", nil); r.Found() {
		t.Fatal("a loader error was cached")
	}
	_, err = c.GetOrLoad(ctx, "k", nil, LoaderFunc(func(e *Encoder) (TTLOverride, error) {
		panic("attempt to index a nil value")
	}), nil)
	if err == nil || err.Error() != "callback threw an error: attempt to index a nil value" {
		t.Fatalf("panic: err = %v", err)
	}
}

func TestResurrection(t *testing.T) {
	clk := newClock()
	c := newTestCache(clk, Config{TTL: time.Second, ResurrectTTL: 30 * time.Second})
	ctx := context.Background()
	var calls atomic.Int64
	if _, err := c.GetOrLoad(ctx, "k", nil, valueLoader("old", &calls), nil); err != nil {
		t.Fatal(err)
	}
	clk.Add(2 * time.Second)
	failing := LoaderFunc(func(e *Encoder) (TTLOverride, error) { return TTLOverride{}, errors.New("timeout") })
	r, err := c.GetOrLoad(ctx, "k", nil, failing, nil)
	if err != nil || r.Hit != HitStale {
		t.Fatalf("stale get: %+v %v; want hit 4 and no error", r, err)
	}
	if v, _ := Unmarshal(r.Value); v != "old" {
		t.Fatalf("resurrected %v", v)
	}
	// Later L2 reads of the resurrected entry report 4 as well, until
	// resurrect_ttl passes.
	if r, _ := c.Get("k", nil); r.Hit != HitStale {
		t.Fatalf("L2 read of a resurrected entry: hit %d", r.Hit)
	}
	clk.Add(30 * time.Second)
	if r, _ := c.Get("k", nil); r.Found() {
		t.Fatalf("resurrected entry outlived resurrect_ttl: %+v", r)
	}

	// A thrown error is never resurrected.
	if _, err := c.GetOrLoad(ctx, "t", nil, valueLoader("old", &calls), nil); err != nil {
		t.Fatal(err)
	}
	clk.Add(2 * time.Second)
	_, err = c.GetOrLoad(ctx, "t", nil, LoaderFunc(func(e *Encoder) (TTLOverride, error) {
		return TTLOverride{}, &ThrownError{Msg: "boom"}
	}), nil)
	if err == nil || err.Error() != "callback threw an error: boom" {
		t.Fatalf("thrown error: %v", err)
	}
	// Without resurrect_ttl the error comes back.
	if _, err := c.GetOrLoad(ctx, "n", nil, valueLoader("old", &calls), nil); err != nil {
		t.Fatal(err)
	}
	clk.Add(2 * time.Second)
	_, err = c.GetOrLoad(ctx, "n", &Opts{Has: HasResurrectTTL}, failing, nil)
	if err == nil || err.Error() != "timeout" {
		t.Fatalf("resurrect_ttl 0: err %v", err)
	}
}

// waitForWaiters polls until n callers wait on key's running load.
func waitForWaiters(t *testing.T, c *Cache, key string, n int) {
	t.Helper()
	sh := c.shard(key)
	deadline := time.Now().Add(30 * time.Second)
	for {
		sh.mu.Lock()
		got := 0
		if f := sh.m[key]; f != nil {
			got = f.waiters
		}
		sh.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d waiters on %q, want %d", got, key, n)
		}
		time.Sleep(time.Millisecond) // polling interval
	}
}

// TestSingleFlight: 64 concurrent GetOrLoad of one cold key run the loader
// exactly once; every caller gets the value.
func TestSingleFlight(t *testing.T) {
	c := newTestCache(newClock(), Config{})
	var calls atomic.Int64
	release := make(chan struct{})
	loader := LoaderFunc(func(e *Encoder) (TTLOverride, error) {
		calls.Add(1)
		<-release
		return TTLOverride{}, AppendValue(e, map[string]any{"id": "x"})
	})
	const n = 64
	var wg sync.WaitGroup
	var started sync.WaitGroup
	results := make([]Result, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		started.Add(1)
		go func(i int) {
			defer wg.Done()
			started.Done()
			results[i], errs[i] = c.GetOrLoad(context.Background(), "cold", nil, loader, nil)
		}(i)
	}
	started.Wait()
	waitForWaiters(t, c, "cold", n-1) // all pile up behind the flight
	close(release)
	wg.Wait()
	if calls.Load() != 1 {
		t.Fatalf("loader ran %d times for 64 concurrent misses", calls.Load())
	}
	loaders := 0
	for i := range results {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if results[i].Hit == HitLoader {
			loaders++
		}
		if v, err := Unmarshal(results[i].Value); err != nil || !reflect.DeepEqual(v, map[string]any{"id": "x"}) {
			t.Fatalf("caller %d got %#v, %v", i, v, err)
		}
	}
	if loaders != 1 {
		t.Fatalf("%d callers report hit level 3, want exactly 1", loaders)
	}
}

func TestSingleFlightErrorSharedNotCached(t *testing.T) {
	c := newTestCache(newClock(), Config{})
	var calls atomic.Int64
	release := make(chan struct{})
	boom := errors.New("could not connect")
	loader := LoaderFunc(func(e *Encoder) (TTLOverride, error) {
		calls.Add(1)
		<-release
		return TTLOverride{}, boom
	})
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = c.GetOrLoad(context.Background(), "k", nil, loader, nil)
		}(i)
	}
	waitForWaiters(t, c, "k", len(errs)-1)
	close(release)
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, boom) {
			t.Fatalf("caller %d: err %v", i, err)
		}
	}
	if calls.Load() != 1 {
		t.Fatalf("loader ran %d times", calls.Load())
	}
	if r, _ := c.Probe("k", nil); r.Found() {
		t.Fatal("error cached")
	}
}

func TestLockTimeout(t *testing.T) {
	c := newTestCache(newClock(), Config{LockTimeout: 20 * time.Millisecond})
	release := make(chan struct{})
	defer close(release)
	started := make(chan struct{}, 2)
	slow := LoaderFunc(func(e *Encoder) (TTLOverride, error) {
		started <- struct{}{}
		<-release
		e.String("v")
		return TTLOverride{}, nil
	})
	go c.GetOrLoad(context.Background(), "k", nil, slow, nil)
	<-started // the slow load holds the key's flight
	var calls atomic.Int64
	_, err := c.GetOrLoad(context.Background(), "k", nil, valueLoader("mine", &calls), nil)
	if err == nil || err.Error() != "could not acquire callback lock: timeout" {
		t.Fatalf("err = %v", err)
	}

	c2 := newTestCache(newClock(), Config{LockTimeout: 20 * time.Millisecond, LoadOnLockTimeout: true})
	go c2.GetOrLoad(context.Background(), "k", nil, slow, nil)
	<-started
	r, err := c2.GetOrLoad(context.Background(), "k", nil, valueLoader("mine", &calls), nil)
	if err != nil || r.Hit != HitLoader {
		t.Fatalf("fall-through load: %+v %v", r, err)
	}
	if v, _ := Unmarshal(r.Value); v != "mine" {
		t.Fatalf("fall-through value %v", v)
	}
}

func TestDeleteRunsHooksAndBeatsARunningLoad(t *testing.T) {
	c := newTestCache(newClock(), Config{})
	var got []string
	var mu sync.Mutex
	remove := c.OnInvalidate(func(k string) { mu.Lock(); got = append(got, k); mu.Unlock() })
	purged := 0
	c.OnPurge(func() { purged++ })

	var calls atomic.Int64
	ctx := context.Background()
	c.GetOrLoad(ctx, "a", nil, valueLoader("1", &calls), nil)
	c.Delete("a")
	if r, _ := c.Probe("a", nil); r.Found() {
		t.Fatal("Delete left the value in L2")
	}
	// A nil entry is evicted the same way (why a create invalidates).
	c.GetOrLoad(ctx, "b", nil, valueLoader(nil, &calls), nil)
	c.Delete("b")
	if r, _ := c.Probe("b", nil); r.Found() {
		t.Fatal("Delete left the cached nil")
	}

	// An invalidation that lands while a load runs wins: the loaded value
	// is returned to its caller but not stored.
	inLoad := make(chan struct{})
	release := make(chan struct{})
	done := make(chan Result)
	go func() {
		r, _ := c.GetOrLoad(ctx, "c", nil, LoaderFunc(func(e *Encoder) (TTLOverride, error) {
			close(inLoad)
			<-release
			e.String("stale row")
			return TTLOverride{}, nil
		}), nil)
		done <- r
	}()
	<-inLoad
	c.Delete("c")
	close(release)
	if r := <-done; r.Hit != HitLoader {
		t.Fatalf("load: %+v", r)
	}
	if r, _ := c.Probe("c", nil); r.Found() {
		t.Fatal("a load that raced an invalidation stored its value")
	}

	mu.Lock()
	if !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Fatalf("hooks saw %v", got)
	}
	mu.Unlock()
	remove()
	c.Delete("d")
	if len(got) != 3 {
		t.Fatal("removed hook still called")
	}
	c.SetValue("e", 1.0, nil)
	c.Purge()
	if r, _ := c.Probe("e", nil); r.Found() || purged != 1 {
		t.Fatalf("purge: found %v, hooks %d", r.Found(), purged)
	}
}

type fakeCluster struct {
	sent []string
	subs map[string]func(string)
}

func (f *fakeCluster) Broadcast(ctx context.Context, channel, data string, delay time.Duration) error {
	f.sent = append(f.sent, channel+"|"+data)
	return nil
}

func (f *fakeCluster) Subscribe(channel string, cb func(string)) error {
	if f.subs == nil {
		f.subs = map[string]func(string){}
	}
	f.subs[channel] = cb
	return nil
}

func TestInvalidateBroadcastsAndClusterEventsInvalidate(t *testing.T) {
	fc := &fakeCluster{}
	c := newTestCache(newClock(), Config{Cluster: fc})
	c.SetValue("k", "v", nil)
	if err := c.Invalidate(context.Background(), "k"); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fc.sent, []string{"invalidations|k"}) {
		t.Fatalf("broadcasts: %v", fc.sent)
	}
	if err := c.SubscribeCluster(fc); err != nil {
		t.Fatal(err)
	}
	c.SetValue("other", "v", nil)
	fc.subs["invalidations"]("other") // another node's invalidation
	if r, _ := c.Probe("other", nil); r.Found() {
		t.Fatal("cluster invalidation not applied")
	}
}

func TestSetValueReplacesNegative(t *testing.T) {
	c := newTestCache(newClock(), Config{})
	c.SetValue("k", nil, nil)
	if v, found := mustGetValue(t, c, "k"); !found || v != nil {
		t.Fatal("nil not cached")
	}
	c.SetValue("k", "now real", nil)
	if v, _ := mustGetValue(t, c, "k"); v != "now real" {
		t.Fatalf("got %v", v)
	}
	c.SetValue("k", nil, nil)
	if v, found := mustGetValue(t, c, "k"); !found || v != nil {
		t.Fatalf("value not replaced by nil: %v", v)
	}
}

func TestConfigFrom(t *testing.T) {
	cf := conf.New()
	cfg := ConfigFrom(cf)
	if cfg.Size != 128<<20 || cfg.TTL != 0 || cfg.NegTTL != 0 || cfg.ResurrectTTL != 30*time.Second {
		t.Fatalf("defaults: %+v", cfg)
	}
	cf.Set("db_cache_ttl", "60", "test")
	cf.Set("mem_cache_size", "64m", "test")
	if cfg := ConfigFrom(cf); cfg.TTL != time.Minute || cfg.NegTTL != time.Minute || cfg.Size != 64<<20 {
		t.Fatalf("db_cache_neg_ttl unset must follow db_cache_ttl: %+v", cfg)
	}
	cf.Set("db_cache_neg_ttl", "0.5", "test")
	if cfg := ConfigFrom(cf); cfg.NegTTL != 500*time.Millisecond {
		t.Fatalf("neg ttl: %+v", cfg)
	}
}

func TestGetReusesBuffer(t *testing.T) {
	c := newTestCache(newClock(), Config{})
	c.SetValue("k", map[string]any{"a": "b"}, nil)
	r, _ := c.Get("k", nil)
	buf := r.Buf[:0]
	allocs := testing.AllocsPerRun(100, func() {
		r, _ = c.Get("k", buf)
	})
	if allocs != 0 {
		t.Fatalf("L2 hit into a reused buffer allocates %v times", allocs)
	}
}

func TestRenew(t *testing.T) {
	clk := newClock()
	c := newTestCache(clk, Config{TTL: time.Hour, ResurrectTTL: time.Minute})
	ctx := context.Background()
	var dropped []string
	c.OnInvalidate(func(k string) { dropped = append(dropped, k) })
	var calls atomic.Int64
	c.GetOrLoad(ctx, "k", nil, valueLoader("v1", &calls), nil)
	r, err := c.Renew(ctx, "k", nil, valueLoader("v2", &calls), nil)
	if err != nil || r.Hit != HitLoader {
		t.Fatalf("renew: %+v %v", r, err)
	}
	if v, _ := mustGetValue(t, c, "k"); v != "v2" || len(dropped) != 1 {
		t.Fatalf("after renew: %v, L1 drops %v", v, dropped)
	}
	// A nil result replaces the value with a negative entry.
	c.Renew(ctx, "k", nil, valueLoader(nil, &calls), nil)
	if v, found := mustGetValue(t, c, "k"); !found || v != nil {
		t.Fatalf("renew to nil: %v %v", v, found)
	}
	// An error keeps what is cached and is not resurrected.
	c.SetValue("k", "v3", nil)
	_, err = c.Renew(ctx, "k", nil, LoaderFunc(func(e *Encoder) (TTLOverride, error) {
		return TTLOverride{}, errors.New("db down")
	}), nil)
	if err == nil {
		t.Fatal("renew error lost")
	}
	if v, _ := mustGetValue(t, c, "k"); v != "v3" {
		t.Fatalf("renew error changed the entry: %v", v)
	}
}

// TestDeleteDuringStoreNeverLeavesOldValue hammers loads and deletes of one
// key: once the last Delete returns, no value loaded before it may remain.
func TestDeleteDuringStoreNeverLeavesOldValue(t *testing.T) {
	c := newTestCache(newClock(), Config{})
	ctx := context.Background()
	for round := 0; round < 200; round++ {
		var gen atomic.Int64
		loader := LoaderFunc(func(e *Encoder) (TTLOverride, error) {
			e.Number(float64(gen.Load()))
			return TTLOverride{}, nil
		})
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < 20; j++ {
					c.GetOrLoad(ctx, "k", nil, loader, nil)
				}
			}()
		}
		gen.Store(1)
		c.Delete("k")
		wg.Wait()
		v, found := mustGetValue(t, c, "k")
		if found && v == 0.0 {
			t.Fatalf("round %d: a value loaded before Delete survived it", round)
		}
		c.Purge()
	}
}

func TestTooLargeValueIsReturnedNotCached(t *testing.T) {
	c := newTestCache(newClock(), Config{}) // 1 MiB: entries over 1 KiB refuse
	big := strings.Repeat("x", 4096)
	var calls atomic.Int64
	for i := 0; i < 2; i++ {
		r, err := c.GetOrLoad(context.Background(), "big", nil, valueLoader(big, &calls), nil)
		if err != nil || r.Hit != HitLoader {
			t.Fatalf("get #%d: hit %d, %v", i, r.Hit, err)
		}
		if v, _ := Unmarshal(r.Value); v != big {
			t.Fatal("value lost")
		}
	}
	if calls.Load() != 2 || c.Stats().Uncacheable != 2 {
		t.Fatalf("loader runs %d, uncacheable %d", calls.Load(), c.Stats().Uncacheable)
	}
	if err := c.SetValue("big", big, nil); err == nil {
		t.Fatal("Set of an oversized value did not fail")
	}
}
