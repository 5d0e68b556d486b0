package metrics

import (
	"hash/maphash"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// The request metrics' children by label values. client_golang's
// WithLabelValues allocates (the variadic slice, the status code as a
// string) and takes the vector's lock on every call; a request would pay
// both. Instead each label combination is resolved once and kept in a
// copy-on-write map, split in shards so that a new combination copies one
// shard only: a request after the first of its kind reads an immutable
// map through an atomic pointer, then increments atomics.

// seriesKey is the labels of one request's metrics.
type seriesKey struct {
	service, route, workspace, consumer, source string
	code                                        int
	proxied                                     bool // Upstream observed
}

// series are the collectors a request of one seriesKey feeds.
type series struct {
	requests              prometheus.Counter
	total, upstream, kong prometheus.Observer
}

const seriesShards = 64

type seriesShard struct {
	m  atomic.Pointer[map[seriesKey]*series]
	mu sync.Mutex // writers
}

type seriesCache struct {
	seed   maphash.Seed
	shards [seriesShards]seriesShard
}

func (c *seriesCache) shard(k *seriesKey) *seriesShard {
	h := maphash.String(c.seed, k.route) ^ maphash.String(c.seed, k.service) + uint64(k.code)
	return &c.shards[h%seriesShards]
}

// series returns the collectors of q's labels, made on first use.
func (r *Recorder) series(q *Request) *series {
	source := "kong"
	if q.Source == "service" || q.Source == "" {
		source = "service"
	}
	k := seriesKey{service: q.Service, route: q.Route, workspace: q.Workspace, consumer: q.Consumer,
		source: source, code: q.Status, proxied: q.Upstream >= 0}
	sh := r.cache.shard(&k)
	if m := sh.m.Load(); m != nil {
		if s, ok := (*m)[k]; ok {
			return s
		}
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	old := sh.m.Load()
	if old != nil {
		if s, ok := (*old)[k]; ok {
			return s
		}
	}
	// The label values are kept by the map and by client_golang: copy
	// them, the caller's strings may view a request's buffers.
	k = seriesKey{service: strings.Clone(k.service), route: strings.Clone(k.route), workspace: strings.Clone(k.workspace),
		consumer: strings.Clone(k.consumer), source: k.source, code: k.code, proxied: k.proxied}
	s := &series{
		requests: r.requests.WithLabelValues(k.service, k.route, strconv.Itoa(k.code), k.source, k.workspace, k.consumer),
		total:    r.requestMS.WithLabelValues(k.service, k.route, k.workspace),
		kong:     r.kongMS.WithLabelValues(k.service, k.route, k.workspace),
	}
	if k.proxied {
		// (made only when observed: Kong shows no upstream latency for a
		// route whose requests it answered itself)
		s.upstream = r.upstreamMS.WithLabelValues(k.service, k.route, k.workspace)
	}
	n := make(map[seriesKey]*series, 1+lenOf(old))
	if old != nil {
		for kk, v := range *old {
			n[kk] = v
		}
	}
	n[k] = s
	sh.m.Store(&n)
	return s
}

func lenOf(m *map[seriesKey]*series) int {
	if m == nil {
		return 0
	}
	return len(*m)
}
