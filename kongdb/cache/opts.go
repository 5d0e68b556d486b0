package cache

import (
	"context"
	"errors"
	"time"

	"github.com/luahost/luahost/conf"
)

// Hit levels, as mlcache reports them (KONG-REFERENCE §6.2). Level 1 (L1) is
// the pdk's.
const (
	HitMiss   = -1 // not cached and no loader given
	HitL2     = 2  // found in the shared L2
	HitLoader = 3  // the loader ran (or another worker's load was shared)
	HitStale  = 4  // a stale value, resurrected after a loader error
)

// Opts are per-call options (mlcache's opts: ttl, neg_ttl, resurrect_ttl).
// Only the fields named in Has are used; the rest come from the cache's
// Config. A nil *Opts means all defaults.
type Opts struct {
	TTL          time.Duration // 0 = never expires
	NegTTL       time.Duration // 0 = never expires
	ResurrectTTL time.Duration // 0 = no resurrection
	Has          OptFlag
}

// OptFlag says which Opts fields are given.
type OptFlag uint8

// Opts fields.
const (
	HasTTL OptFlag = 1 << iota
	HasNegTTL
	HasResurrectTTL
)

// TTLOverride is a loader's third return value in Kong (`return value, nil,
// ttl`): Set with TTL >= 0 overrides the ttl (neg_ttl for a nil value; 0 =
// never expires); Set with TTL < 0 returns the value without caching it.
type TTLOverride struct {
	TTL time.Duration
	Set bool
}

// A Loader is L3: it encodes the loaded value into e (writing nothing, or
// e.Nil(), is a negative result, cached for neg_ttl). An error is returned
// to every waiter and not cached; return a *ThrownError for a Lua error that
// was raised (not returned), which Kong never resurrects. A panic is caught
// and treated as a thrown error.
//
// Loader is an interface so a worker can keep one reusable loader object and
// call GetOrLoad without allocating a closure.
type Loader interface {
	Load(e *Encoder) (TTLOverride, error)
}

// LoaderFunc adapts a function to Loader.
type LoaderFunc func(e *Encoder) (TTLOverride, error)

// Load calls f.
func (f LoaderFunc) Load(e *Encoder) (TTLOverride, error) { return f(e) }

// ThrownError is a loader failure that was thrown (Lua error()), as opposed
// to returned as `nil, err`: Kong reports it as "callback threw an error:
// <msg>" and never resurrects a stale value for it.
type ThrownError struct{ Msg string }

func (e *ThrownError) Error() string { return "callback threw an error: " + e.Msg }

// ErrLockTimeout is returned when another worker's load of the same key
// takes longer than Config.LockTimeout and no stale value is available.
var ErrLockTimeout = errors.New("could not acquire callback lock: timeout")

// Config configures a Cache. The zero value of a duration is meaningful
// (0 = never expires / no resurrection): use ConfigFrom to get Kong's
// defaults from kong.conf.
type Config struct {
	// Name is the shm name Kong would use ("kong_db_cache",
	// "kong_core_db_cache"); it names the cache in logs and events.
	Name string
	// Size is the L2 size in bytes (mem_cache_size); default 128 MiB.
	// freecache refuses entries larger than Size/1024.
	Size int
	// MissSize is the size of the store for cached nils (Kong's
	// kong_db_cache_miss shm, 12m); default 12 MiB. Kept apart so a flood
	// of misses cannot evict real values.
	MissSize int
	// TTL (db_cache_ttl), NegTTL (db_cache_neg_ttl, or db_cache_ttl when
	// unset) and ResurrectTTL (db_resurrect_ttl) are the instance defaults.
	TTL, NegTTL, ResurrectTTL time.Duration
	// LockTimeout is how long a GetOrLoad waits for another worker's load
	// of the same key (resty_lock_opts.timeout = 5 s in Kong); default 5 s.
	LockTimeout time.Duration
	// LoadOnLockTimeout makes a waiter that timed out run the loader itself
	// (without caching) instead of failing, which lua-resty-mlcache#99 asks
	// for. Off by default: Kong returns the timeout error.
	LoadOnLockTimeout bool
	// Now is the clock (default time.Now); tests inject their own. It also
	// drives freecache's whole-second expiry.
	Now func() time.Time
	// Cluster, when set, receives Invalidate's cluster broadcast on Channel
	// (default "invalidations").
	Cluster ClusterBroadcaster
	Channel string
}

// ConfigFrom reads Kong's properties: mem_cache_size, db_cache_ttl,
// db_cache_neg_ttl (falls back to db_cache_ttl), db_resurrect_ttl.
func ConfigFrom(c *conf.Config) Config {
	ttl := seconds(c.Float("db_cache_ttl", 0))
	neg := ttl
	if c.Get("db_cache_neg_ttl") != "" {
		neg = seconds(c.Float("db_cache_neg_ttl", 0))
	}
	return Config{
		Name:         "kong_db_cache",
		Size:         c.Size("mem_cache_size", 128<<20),
		TTL:          ttl,
		NegTTL:       neg,
		ResurrectTTL: seconds(c.Float("db_resurrect_ttl", 30)),
	}
}

// seconds converts Kong's number of seconds to a Duration (negative → 0).
func seconds(f float64) time.Duration {
	if f <= 0 {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}

// Seconds converts a Lua number of seconds to a Duration, exactly as
// ConfigFrom does.
func Seconds(f float64) time.Duration {
	if f < 0 {
		return time.Duration(f * float64(time.Second))
	}
	return seconds(f)
}

// ClusterBroadcaster is what Invalidate needs from cluster events
// (events.ClusterEvents implements it).
type ClusterBroadcaster interface {
	Broadcast(ctx context.Context, channel, data string, delay time.Duration) error
}
