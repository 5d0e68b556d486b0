package cache

import "context"

// Renew is kong.cache:renew (Kong 3.4+): it runs the loader even when key is
// cached, stores the result (a nil as a negative entry, removing any value),
// drops key from every worker's L1 (OnInvalidate hooks) and returns the
// value with HitLoader. A renewal of key already running is joined instead
// of repeated, as mlcache does with its version check. A loader error leaves
// the cached entry as it was.
func (c *Cache) Renew(ctx context.Context, key string, o *Opts, l Loader, dst []byte) (Result, error) {
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
	r, err := c.load(key, o, l, f, dst, false)
	c.finish(sh, key, f)
	if err == nil {
		if hs := c.invalHooks.Load(); hs != nil {
			for _, h := range *hs {
				h.fn(key)
			}
		}
	}
	return r, err
}
