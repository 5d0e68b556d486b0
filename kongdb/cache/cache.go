package cache

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/coocood/freecache"
)

// Cache is the node-wide L2 shared by every worker. All methods are safe for
// concurrent use.
type Cache struct {
	cfg     Config
	main    *freecache.Cache
	miss    *freecache.Cache
	now     func() time.Time
	flights [flightShards]flightShard
	encs    sync.Pool

	hookMu     sync.Mutex
	hookSeq    int
	invalHooks atomic.Pointer[[]hook[func(string)]]
	purgeHooks atomic.Pointer[[]hook[func()]]
	storeHooks atomic.Pointer[[]hook[func(string)]]

	loads       atomic.Int64
	uncacheable atomic.Int64
}

type hook[F any] struct {
	id int
	fn F
}

// Result is what a read returns.
type Result struct {
	// Value is the encoded value (read it with a Decoder or Unmarshal). It
	// lives in the dst buffer the caller passed and is nil for a negative
	// entry.
	Value []byte
	// Nil reports a cached nil (a negative entry).
	Nil bool
	// Hit is the hit level: HitMiss, HitL2, HitLoader or HitStale.
	Hit int
	// TTL is the remaining time to live; 0 = never expires.
	TTL time.Duration
	// Buf is the whole buffer Value lives in (grown from dst when dst was
	// too small): pass Buf[:0] as the next dst to read without allocating.
	Buf []byte
}

// Found reports whether the read produced a value or a cached nil.
func (r Result) Found() bool { return r.Hit != HitMiss }

type freecacheTimer struct{ now func() time.Time }

func (t freecacheTimer) Now() uint32 { return uint32(t.now().Unix()) }

// New builds a cache. See Config for the defaults of zero fields.
func New(cfg Config) *Cache {
	if cfg.Size <= 0 {
		cfg.Size = 128 << 20
	}
	if cfg.MissSize <= 0 {
		cfg.MissSize = 12 << 20
	}
	if cfg.LockTimeout <= 0 {
		cfg.LockTimeout = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Channel == "" {
		cfg.Channel = "invalidations"
	}
	if cfg.Name == "" {
		cfg.Name = "kong_db_cache"
	}
	t := freecacheTimer{now: cfg.Now}
	c := &Cache{
		cfg:  cfg,
		main: freecache.NewCacheCustomTimer(cfg.Size, t),
		miss: freecache.NewCacheCustomTimer(cfg.MissSize, t),
		now:  cfg.Now,
	}
	c.encs.New = func() any { return NewEncoder() }
	for i := range c.flights {
		c.flights[i].m = map[string]*flight{}
	}
	return c
}

// Config returns the configuration in use (defaults filled in).
func (c *Cache) Config() Config { return c.cfg }

// keyBytes views a string as bytes without copying: freecache only reads
// the key during a call (Set copies it into its ring buffer).
func keyBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

func (c *Cache) nowNano() int64 { return c.now().UnixNano() }

// read looks key up in one store; expired entries are reported as such.
func read(store *freecache.Cache, k, dst []byte) (val []byte, flags byte, expireAt int64, ok bool) {
	b, err := store.GetWithBuf(k, dst[:cap(dst)])
	if err != nil {
		return nil, 0, 0, false
	}
	flags, expireAt, ok = readHeader(b)
	if !ok {
		return nil, 0, 0, false
	}
	return b, flags, expireAt, true
}

func remaining(expireAt, now int64) time.Duration {
	if expireAt == 0 {
		return 0
	}
	return time.Duration(expireAt - now)
}

// Get reads key from L2 (values, then cached nils). The value is copied
// into dst (grown if too small), so a worker reusing one buffer reads
// without allocating. A miss has Hit == HitMiss.
func (c *Cache) Get(key string, dst []byte) (Result, error) {
	k := keyBytes(key)
	now := c.nowNano()
	if b, flags, exp, ok := read(c.main, k, dst); ok && !expired(exp, now) {
		hit := HitL2
		if flags&entryStale != 0 {
			hit = HitStale
		}
		return Result{Value: b[headerLen:], Hit: hit, TTL: remaining(exp, now), Buf: b}, nil
	}
	if b, flags, exp, ok := read(c.miss, k, dst); ok && !expired(exp, now) {
		hit := HitL2
		if flags&entryStale != 0 {
			hit = HitStale
		}
		return Result{Nil: true, Hit: hit, TTL: remaining(exp, now), Buf: b}, nil
	}
	return Result{Hit: HitMiss}, nil
}

// Probe is kong.cache:probe: Get without side effects on hit levels; the
// Result's TTL is the remaining ttl (0 = no expiry) and Found() is false
// when the key is not cached.
func (c *Cache) Probe(key string, dst []byte) (Result, error) { return c.Get(key, dst) }

// Set stores an encoded value (e.Nil() or nothing written = a cached nil)
// with the instance ttl, or o's: kong.cache:safe_set. It neither touches L1
// nor broadcasts. freecache always makes room, so unlike an nginx shm it
// never fails with "no memory"; it fails for values larger than Size/1024.
func (c *Cache) Set(key string, e *Encoder, o *Opts) error {
	neg := isNilValue(e.Bytes())
	ttl := c.ttlFor(o, neg)
	return c.store(key, e, ttl, c.graceFor(o), 0)
}

// SetValue is Set for a Go value (see Marshal).
func (c *Cache) SetValue(key string, v any, o *Opts) error {
	e := c.encs.Get().(*Encoder)
	defer c.encs.Put(e)
	e.Reset()
	if err := AppendValue(e, v); err != nil {
		return err
	}
	return c.Set(key, e, o)
}

// GetValue is Get decoding into the Go value model; found is false on a
// miss, and a cached nil is (nil, true).
func (c *Cache) GetValue(key string) (v any, found bool, err error) {
	r, err := c.Get(key, nil)
	if err != nil || !r.Found() || r.Nil {
		return nil, r.Found(), err
	}
	v, err = Unmarshal(r.Value)
	return v, true, err
}

func (c *Cache) ttlFor(o *Opts, neg bool) time.Duration {
	if neg {
		if o != nil && o.Has&HasNegTTL != 0 {
			return o.NegTTL
		}
		return c.cfg.NegTTL
	}
	if o != nil && o.Has&HasTTL != 0 {
		return o.TTL
	}
	return c.cfg.TTL
}

func (c *Cache) graceFor(o *Opts) time.Duration {
	if o != nil && o.Has&HasResurrectTTL != 0 {
		return o.ResurrectTTL
	}
	return c.cfg.ResurrectTTL
}

// store writes e's value under key with ttl; flags may mark it stale. A
// value goes to the main store and evicts any cached nil, and the reverse.
func (c *Cache) store(key string, e *Encoder, ttl, grace time.Duration, flags byte) error {
	k := keyBytes(key)
	exp := expireAtFor(c.nowNano(), ttl)
	secs := freecacheSeconds(ttl, grace)
	if isNilValue(e.Bytes()) {
		var hdr [headerLen]byte
		putHeader(hdr[:], flags, exp)
		c.main.Del(k)
		if err := c.miss.Set(k, hdr[:], secs); err != nil {
			return err
		}
		c.stored(key)
		return nil
	}
	e.grow()
	putHeader(e.buf[:headerLen], flags, exp)
	c.miss.Del(k)
	err := c.main.Set(k, e.buf, secs)
	if err != nil {
		c.main.Del(k) // never leave an older value behind a failed write
		return err
	}
	c.stored(key)
	return nil
}

// stored runs the OnStore hooks.
func (c *Cache) stored(key string) {
	if hs := c.storeHooks.Load(); hs != nil {
		for _, h := range *hs {
			h.fn(key)
		}
	}
}

// Delete removes key from L2 and tells every worker's L1 to drop it (the
// OnInvalidate hooks): kong.cache:invalidate_local. A load of key that is
// running now still returns its value but does not store it, so an
// invalidation is never overwritten by the value it invalidated.
func (c *Cache) Delete(key string) {
	// Mark a running load first: it then skips its store, or it stored
	// already (under the same lock) and the deletes below remove it.
	c.invalidateFlight(key)
	k := keyBytes(key)
	c.main.Del(k)
	c.miss.Del(k)
	if hs := c.invalHooks.Load(); hs != nil {
		for _, h := range *hs {
			h.fn(key)
		}
	}
}

// Invalidate is kong.cache:invalidate: Delete, then a cluster event on
// Config.Channel so other nodes drop the key too. The broadcast error, if
// any, is returned (the local part is done either way).
func (c *Cache) Invalidate(ctx context.Context, key string) error {
	c.Delete(key)
	if c.cfg.Cluster == nil {
		return nil
	}
	return c.cfg.Cluster.Broadcast(ctx, c.cfg.Channel, key, 0)
}

// BroadcastInvalidation sends the invalidation of key to other nodes only
// (inside a write's transaction; the local drop comes after commit).
func (c *Cache) BroadcastInvalidation(ctx context.Context, key string) error {
	if c.cfg.Cluster == nil {
		return nil
	}
	return c.cfg.Cluster.Broadcast(ctx, c.cfg.Channel, key, 0)
}

// ClusterSubscriber is what SubscribeCluster needs (events.ClusterEvents).
type ClusterSubscriber interface {
	Subscribe(channel string, cb func(data string)) error
}

// SubscribeCluster applies other nodes' invalidations on Config.Channel as
// local ones (Kong's cache does this in init_worker).
func (c *Cache) SubscribeCluster(s ClusterSubscriber) error {
	return s.Subscribe(c.cfg.Channel, func(key string) { c.Delete(key) })
}

// Purge empties L2 and tells every worker to flush its L1 (OnPurge hooks):
// kong.cache:purge. Node-local, like Kong's.
func (c *Cache) Purge() {
	for i := range c.flights {
		sh := &c.flights[i]
		sh.mu.Lock()
		for _, f := range sh.m {
			f.invalidated = true
		}
		sh.mu.Unlock()
	}
	c.main.Clear()
	c.miss.Clear()
	if hs := c.purgeHooks.Load(); hs != nil {
		for _, h := range *hs {
			h.fn()
		}
	}
}

// OnInvalidate registers fn to run (synchronously, in the caller of Delete
// or Invalidate) for every invalidated key; the pdk uses it to drop the key
// from each worker's L1, typically by posting to the worker's inbox. It
// returns a function that removes the hook.
func (c *Cache) OnInvalidate(fn func(key string)) (remove func()) {
	return addHook(c, &c.invalHooks, fn)
}

// OnStore registers fn to run (synchronously) for every key stored in L2,
// a cached nil included: `luahost run --audit-cache` uses it to find keys
// no invalidation ever matches. It returns a function that removes the
// hook.
func (c *Cache) OnStore(fn func(key string)) (remove func()) {
	return addHook(c, &c.storeHooks, fn)
}

// OnPurge registers fn to run on Purge (each worker flushes its L1).
func (c *Cache) OnPurge(fn func()) (remove func()) {
	return addHook(c, &c.purgeHooks, fn)
}

func addHook[F any](c *Cache, p *atomic.Pointer[[]hook[F]], fn F) func() {
	c.hookMu.Lock()
	c.hookSeq++
	id := c.hookSeq
	var cur []hook[F]
	if old := p.Load(); old != nil {
		cur = *old
	}
	next := append(append([]hook[F](nil), cur...), hook[F]{id: id, fn: fn})
	p.Store(&next)
	c.hookMu.Unlock()
	return func() {
		c.hookMu.Lock()
		defer c.hookMu.Unlock()
		old := p.Load()
		if old == nil {
			return
		}
		next := make([]hook[F], 0, len(*old))
		for _, h := range *old {
			if h.id != id {
				next = append(next, h)
			}
		}
		p.Store(&next)
	}
}

// Stats are counters for metrics.
type Stats struct {
	Entries, MissEntries int64 // values and cached nils held
	Evacuated            int64 // entries evicted to make room
	HitRate              float64
	Loads                int64 // loader runs
	// Uncacheable counts loaded values that could not be stored (larger
	// than Size/1024): a growing number means a loader runs on every get.
	Uncacheable int64
}

// Stats reports the cache's counters.
func (c *Cache) Stats() Stats {
	return Stats{
		Entries:     c.main.EntryCount(),
		MissEntries: c.miss.EntryCount(),
		Evacuated:   c.main.EvacuateCount() + c.miss.EvacuateCount(),
		HitRate:     c.main.HitRate(),
		Loads:       c.loads.Load(),
		Uncacheable: c.uncacheable.Load(),
	}
}
