package check

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/luahost/luahost/kongdb/cache"
)

// CacheAudit watches a running node's kong.cache: every key stored and
// every key invalidated (entity writes evict dao:cache_key(entity); a
// plugin's own kong.cache:invalidate counts too). Its report lists the
// cached keys no invalidation has ever matched, telling apart those whose
// entity was written meanwhile (the key is not the one CRUD events evict:
// the entry stays stale until it expires) from those whose entity was
// never written. It is `luahost run --audit-cache`.
type CacheAudit struct {
	mu     sync.Mutex
	stored map[string]int // key -> times stored
	inval  map[string]int // key -> times invalidated
	// writes counts invalidations per key prefix (the entity name of a
	// dao:cache_key key: "<entity>:...").
	writes  map[string]int
	removes []func()
}

// NewCacheAudit starts watching the caches.
func NewCacheAudit(caches ...*cache.Cache) *CacheAudit {
	a := &CacheAudit{stored: map[string]int{}, inval: map[string]int{}, writes: map[string]int{}}
	for _, c := range caches {
		if c == nil {
			continue
		}
		a.removes = append(a.removes, c.OnStore(a.onStore), c.OnInvalidate(a.onInvalidate))
	}
	return a
}

func (a *CacheAudit) onStore(key string) {
	a.mu.Lock()
	a.stored[key]++
	a.mu.Unlock()
}

func (a *CacheAudit) onInvalidate(key string) {
	a.mu.Lock()
	a.inval[key]++
	a.writes[keyEntity(key)]++
	a.mu.Unlock()
}

// Stop stops watching.
func (a *CacheAudit) Stop() {
	for _, r := range a.removes {
		r()
	}
	a.removes = nil
}

func keyEntity(key string) string {
	e, _, _ := strings.Cut(key, ":")
	return e
}

// UnmatchedKey is a cached key no invalidation matched.
type UnmatchedKey struct {
	Key    string `json:"key"`
	Stored int    `json:"stored"`
	// Entity is the key's prefix; EntityWrites how many invalidations of
	// keys with that prefix happened (CRUD writes of the entity).
	Entity       string `json:"entity"`
	EntityWrites int    `json:"entity_writes"`
}

// Unmatched returns the cached keys never invalidated, those whose entity
// was written first, then by key.
func (a *CacheAudit) Unmatched() []UnmatchedKey {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []UnmatchedKey
	for k, n := range a.stored {
		if a.inval[k] > 0 {
			continue
		}
		e := keyEntity(k)
		out = append(out, UnmatchedKey{Key: k, Stored: n, Entity: e, EntityWrites: a.writes[e]})
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].EntityWrites > 0) != (out[j].EntityWrites > 0) {
			return out[i].EntityWrites > 0
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// WriteReport prints the audit: one line per unmatched key, limited to
// max lines per group (0 = all).
func (a *CacheAudit) WriteReport(w io.Writer, max int) {
	keys := a.Unmatched()
	a.mu.Lock()
	nStored, nInval := len(a.stored), len(a.inval)
	a.mu.Unlock()
	fmt.Fprintf(w, "cache audit: %d key(s) cached, %d key(s) invalidated, %d cached key(s) never matched by an invalidation\n",
		nStored, nInval, len(keys))
	shown := map[bool]int{}
	for _, k := range keys {
		written := k.EntityWrites > 0
		if max > 0 && shown[written] >= max {
			continue
		}
		shown[written]++
		if written {
			fmt.Fprintf(w, "  never invalidated although '%s' was written %d time(s): %s (Kong/kong#8965; build the key with kong.db.%s:cache_key(...))\n",
				k.Entity, k.EntityWrites, k.Key, k.Entity)
		} else {
			fmt.Fprintf(w, "  not invalidated yet (no write of '%s' seen): %s\n", k.Entity, k.Key)
		}
	}
}
