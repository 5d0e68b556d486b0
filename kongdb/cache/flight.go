package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
)

// flightShards spreads the per-key single flights over independent locks.
const flightShards = 64

type flightShard struct {
	mu sync.Mutex
	m  map[string]*flight
}

// flight is one running load of a key (mlcache's callback lock). Waiters
// block on done and then read the shared outcome.
type flight struct {
	done        chan struct{}
	waiters     int  // guarded by the shard lock
	invalidated bool // guarded by the shard lock: Delete/Purge ran during the load

	// outcome, written before done is closed
	val   []byte // copy of the encoded value, only when there are waiters
	isNil bool
	hit   int
	ttl   time.Duration
	err   error
}

func (c *Cache) shard(key string) *flightShard {
	return &c.flights[xxhash.Sum64String(key)%flightShards]
}

func (c *Cache) invalidateFlight(key string) {
	sh := c.shard(key)
	sh.mu.Lock()
	if f := sh.m[key]; f != nil {
		f.invalidated = true
	}
	sh.mu.Unlock()
}

// GetOrLoad is kong.cache:get's L2 + L3 path: an L2 hit returns HitL2 (or
// HitStale for a resurrected entry); on a miss the loader runs once per key
// across all callers in the process, which wait for it (up to
// Config.LockTimeout, or ctx) and then share its outcome. A loaded value is
// stored for ttl (a nil for neg_ttl; see TTLOverride) and returned with
// HitLoader to the caller that ran the loader. A loader error is returned to
// every waiter and nothing is cached, except that a returned (not thrown)
// error with a resurrect_ttl brings back a stale value still in L2
// (HitStale, no error), as mlcache does.
//
// The value is copied into dst (see Result.Buf). The caller that ran the
// loader already holds the original value and may ignore Result.Value.
func (c *Cache) GetOrLoad(ctx context.Context, key string, o *Opts, l Loader, dst []byte) (Result, error) {
	if r, err := c.Get(key, dst); err != nil || r.Found() {
		return r, err
	}
	if l == nil {
		return Result{Hit: HitMiss}, nil
	}
	sh := c.shard(key)
	sh.mu.Lock()
	if f := sh.m[key]; f != nil {
		f.waiters++
		sh.mu.Unlock()
		return c.wait(ctx, key, f, o, l, dst)
	}
	f := &flight{done: make(chan struct{})}
	sh.m[key] = f
	sh.mu.Unlock()

	// Another caller may have stored the key between our miss and taking
	// the flight: check again, as mlcache does after acquiring its lock.
	if r, _ := c.Get(key, dst); r.Found() {
		f.val, f.isNil, f.hit, f.ttl = r.Value, r.Nil, r.Hit, r.TTL
		c.finish(sh, key, f)
		return r, nil
	}
	r, err := c.load(key, o, l, f, dst, true)
	c.finish(sh, key, f)
	return r, err
}

// finish publishes f's outcome and retires it. Values are copied for the
// waiters only when there are any, so an uncontended load does not copy.
func (c *Cache) finish(sh *flightShard, key string, f *flight) {
	sh.mu.Lock()
	if f.waiters > 0 && f.val != nil {
		f.val = append([]byte(nil), f.val...)
	} else if f.waiters == 0 {
		f.val = nil
	}
	if sh.m[key] == f {
		delete(sh.m, key)
	}
	sh.mu.Unlock()
	close(f.done)
}

// load runs the loader for the caller that owns flight f.
func (c *Cache) load(key string, o *Opts, l Loader, f *flight, dst []byte, resurrect bool) (Result, error) {
	e := c.encs.Get().(*Encoder)
	defer c.encs.Put(e)
	e.Reset()
	c.loads.Add(1)
	ov, err := callLoader(l, e)
	if err != nil {
		var thrown *ThrownError
		if rt := c.graceFor(o); resurrect && rt > 0 && !errors.As(err, &thrown) {
			if r, ok := c.resurrect(key, rt, dst); ok {
				f.val, f.isNil, f.hit, f.ttl = r.Value, r.Nil, HitStale, r.TTL
				return r, nil
			}
		}
		f.err = err
		return Result{Hit: HitLoader}, err
	}
	v := e.Bytes()
	neg := isNilValue(v)
	ttl := c.ttlFor(o, neg)
	cacheIt := true
	if ov.Set {
		if ov.TTL < 0 {
			cacheIt = false
		} else {
			ttl = ov.TTL
		}
	}
	f.hit = HitLoader
	if cacheIt {
		// Checked and stored under the shard lock, so a Delete either
		// marks the flight first or removes what was stored.
		sh := c.shard(key)
		sh.mu.Lock()
		if !f.invalidated {
			if err := c.store(key, e, ttl, c.graceFor(o), 0); err == nil {
				f.hit = HitL2 // waiters read what is now in L2
			} else {
				// Too large for freecache (over Size/1024): returned but
				// not cached, so every get runs the loader. Counted in
				// Stats so it shows.
				c.uncacheable.Add(1)
			}
		}
		sh.mu.Unlock()
	}
	r := Result{Nil: neg, Hit: HitLoader, TTL: ttl}
	if !neg {
		dst = append(dst[:0], v...)
		r.Value, r.Buf = dst, dst
	}
	f.val, f.isNil, f.ttl = r.Value, neg, ttl
	return r, nil
}

// callLoader runs l, turning a panic into a ThrownError so waiters are
// always released.
func callLoader(l Loader, e *Encoder) (ov TTLOverride, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &ThrownError{Msg: fmt.Sprint(p)}
		}
	}()
	return l.Load(e)
}

// wait blocks until f completes, ctx ends or the lock timeout passes.
func (c *Cache) wait(ctx context.Context, key string, f *flight, o *Opts, l Loader, dst []byte) (Result, error) {
	t := time.NewTimer(c.cfg.LockTimeout)
	defer t.Stop()
	select {
	case <-f.done:
		if f.err != nil {
			return Result{Hit: HitLoader}, f.err
		}
		r := Result{Nil: f.isNil, Hit: f.hit, TTL: f.ttl}
		if !f.isNil {
			dst = append(dst[:0], f.val...)
			r.Value, r.Buf = dst, dst
		}
		return r, nil
	case <-ctx.Done():
		return Result{Hit: HitMiss}, ctx.Err()
	case <-t.C:
	}
	// Kong serves a stale value when the lock wait times out.
	if r, ok := c.staleRead(key, dst); ok {
		return r, nil
	}
	if !c.cfg.LoadOnLockTimeout {
		return Result{Hit: HitMiss}, ErrLockTimeout
	}
	e := c.encs.Get().(*Encoder)
	defer c.encs.Put(e)
	e.Reset()
	c.loads.Add(1)
	if _, err := callLoader(l, e); err != nil {
		return Result{Hit: HitLoader}, err
	}
	v := e.Bytes()
	if isNilValue(v) {
		return Result{Nil: true, Hit: HitLoader}, nil
	}
	dst = append(dst[:0], v...)
	return Result{Value: dst, Buf: dst, Hit: HitLoader}, nil
}

// staleRead reads key even if its ttl has passed, while freecache still
// holds it (the resurrection window).
func (c *Cache) staleRead(key string, dst []byte) (Result, bool) {
	k := keyBytes(key)
	if b, _, _, ok := read(c.main, k, dst); ok {
		return Result{Value: b[headerLen:], Buf: b, Hit: HitStale}, true
	}
	if b, _, _, ok := read(c.miss, k, dst); ok {
		return Result{Nil: true, Buf: b, Hit: HitStale}, true
	}
	return Result{}, false
}

// resurrect re-stores a stale value of key for rt, flagged stale, as
// mlcache does when a loader returns an error.
func (c *Cache) resurrect(key string, rt time.Duration, dst []byte) (Result, bool) {
	r, ok := c.staleRead(key, dst)
	if !ok {
		return r, false
	}
	e := c.encs.Get().(*Encoder)
	defer c.encs.Put(e)
	e.Reset()
	if !r.Nil {
		e.buf = append(e.buf, r.Value...)
	}
	if err := c.store(key, e, rt, rt, entryStale); err != nil {
		return r, false
	}
	r.TTL = rt
	return r, true
}
