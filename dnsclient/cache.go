package dnsclient

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Record is one resource record of an answer (lua-resty-dns's record
// table): Address for A and AAAA (without brackets), Target, Port, Weight
// and Priority for SRV, CNAME for CNAME. Names are lower case and without
// their final dot.
type Record struct {
	Type     uint16
	Name     string
	Address  string
	Target   string
	CNAME    string
	Port     int
	Weight   int
	Priority int
	TTL      uint32 // seconds, after dns_valid_ttl
}

// Answer is a cached answer for a name and type: records, an empty answer,
// or a DNS error (Code and Msg: the server's rcode, or Kong's client codes
// 100-103). It is shared by every reader: do not modify it. A new query
// gives a new Answer, so comparing pointers tells a refreshed answer.
type Answer struct {
	Records []Record
	Code    int
	Msg     string
	// TTL is the TTL the answer was cached with (the records' least,
	// dns_valid_ttl, or an error's dns_not_found_ttl / dns_error_ttl);
	// Expire is when it goes stale.
	TTL    time.Duration
	Expire time.Time

	rr  atomic.Uint64 // round-robin cursor over A/AAAA records
	wmu sync.Mutex    // weighted round-robin over SRV records
	wrr *wrrState
}

// Expired reports whether the answer is stale at now (Kong's expired:
// strictly after its expiry).
func (a *Answer) Expired(now time.Time) bool { return now.After(a.Expire) }

// cacheKey is a cache entry's key: a name's answer of one type, the same
// under the short name it was asked for (kindShort; qtype 0 for a search
// through dns_order), or the last type a name resolved with (kindLast).
type cacheKey struct {
	kind  uint8
	qtype uint16
	name  string
}

const (
	kindRecords uint8 = iota
	kindShort
	kindLast
)

type cacheEntry struct {
	ans    *Answer
	last   uint16
	lruExp time.Time // zero: never (the last-type entries)
	touch  atomic.Int64
}

// cache is Kong's dnscache, an LRU of Config.CacheSize entries, each kept
// until its TTL plus dns_stale_ttl. Readers take a read lock; recency is
// an atomic stamp, and the least recent entry is found by a scan when the
// cache is full (inserts are rare: one per query).
type cache struct {
	mu   sync.RWMutex
	m    map[cacheKey]*cacheEntry
	size int
	seq  atomic.Int64
}

func newCache(size int) *cache {
	if size <= 0 {
		size = 10000
	}
	return &cache{m: map[cacheKey]*cacheEntry{}, size: size}
}

func (c *cache) get(k cacheKey, now time.Time) *cacheEntry {
	c.mu.RLock()
	e := c.m[k]
	c.mu.RUnlock()
	if e == nil || !e.lruExp.IsZero() && !now.Before(e.lruExp) {
		return nil
	}
	e.touch.Store(c.seq.Add(1))
	return e
}

func (c *cache) set(k cacheKey, e *cacheEntry) {
	e.touch.Store(c.seq.Add(1))
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.size {
		var oldest cacheKey
		var at int64 = -1
		for kk, ee := range c.m {
			if t := ee.touch.Load(); at < 0 || t < at {
				oldest, at = kk, t
			}
		}
		delete(c.m, oldest)
	}
	c.m[k] = e
}

func (c *cache) del(k cacheKey) {
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

// roundRobin is the index of the next A/AAAA record (Kong's roundRobin:
// the records in the server's order, starting with the first).
func (a *Answer) roundRobin() int {
	return int((a.rr.Add(1) - 1) % uint64(len(a.Records)))
}

// wrrState is Kong's roundRobinW state for an SRV answer.
type wrrState struct {
	prio    []int // the records of the lowest priority
	weights []int
	list    []int // each of prio as often as its reduced weight
	ptr     int   // list[:ptr] is yet to be served in this round
}

// roundRobinW is the index of the next SRV record, as Kong's roundRobinW:
// only the lowest priority's records; the first call gives the first of
// them ("trust the dns server"), later ones draw at random without
// replacement from a list holding each record as often as its weight
// (0 counting as 1) divided by the weights' gcd.
func (a *Answer) roundRobinW() int {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	s := a.wrr
	if s == nil {
		s = &wrrState{}
		top := -1
		for i, r := range a.Records {
			w := r.Weight
			if w == 0 {
				w = 1
			}
			switch {
			case top < 0 || r.Priority < top:
				top = r.Priority
				s.prio, s.weights = []int{i}, []int{w}
			case r.Priority == top:
				s.prio, s.weights = append(s.prio, i), append(s.weights, w)
			}
		}
		a.wrr = s
		return s.prio[0]
	}
	if s.list == nil {
		g := 0
		for _, w := range s.weights {
			g = gcd(g, w)
		}
		for i, idx := range s.prio {
			for n := 0; n < s.weights[i]/g; n++ {
				s.list = append(s.list, idx)
			}
		}
		// the first call served the first record: it starts this round
		// as already drawn
		x := len(s.list)
		s.list[0], s.list[x-1] = s.list[x-1], s.list[0]
		s.ptr = x - 1
		if s.ptr == 0 {
			s.ptr = x
		}
	}
	i := rand.IntN(s.ptr)
	idx := s.list[i]
	s.list[i], s.list[s.ptr-1] = s.list[s.ptr-1], s.list[i]
	if s.ptr == 1 {
		s.ptr = len(s.list)
	} else {
		s.ptr--
	}
	return idx
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
