// Package metrics is luahost's Prometheus instrumentation: Kong's
// prometheus-plugin metric names for requests and latencies, and
// luahost's own for kong.cache, the database, the worker pool and Lua
// deadlines. A Recorder holds the collectors; the proxy, the host and the
// data layer feed it through its methods (each safe on a nil *Recorder, so
// a caller can hold one unconditionally), and Handler serves /metrics.
//
// It depends on no other luahost package: callers adapt their own stats
// (host.PoolStat, cache.Stats) to the small structs here.
package metrics

import (
	"hash/maphash"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// LatencyBucketsMS are Kong's prometheus plugin latency buckets
// (milliseconds).
var LatencyBucketsMS = []float64{1, 2, 5, 7, 10, 15, 20, 30, 50, 75, 100, 200, 500, 750, 1000, 2000, 5000, 10000, 30000, 60000}

// Recorder holds the collectors of one node.
type Recorder struct {
	reg *prometheus.Registry

	requests      *prometheus.CounterVec
	requestMS     *prometheus.HistogramVec
	upstreamMS    *prometheus.HistogramVec
	kongMS        *prometheus.HistogramVec
	cacheHits     *prometheus.CounterVec
	cacheMisses   *prometheus.CounterVec
	dbQuery       *prometheus.HistogramVec
	deadlineStops *prometheus.CounterVec
	reachable     prometheus.Gauge

	total atomic.Int64
	cache seriesCache
	// gets are the cache counters of kong.cache and kong.core_cache,
	// resolved once: CacheGet runs on every kong.cache:get.
	gets [2]cacheCounters
}

// cacheCounters are one cache's hit counters by level and its misses.
type cacheCounters struct {
	l1, l2, miss prometheus.Counter
}

// knownCaches are the caches whose counters are resolved at New.
var knownCaches = [2]string{"kong.cache", "kong.core_cache"}

// New returns a Recorder with Go's runtime and process collectors.
func New() *Recorder {
	r := &Recorder{reg: prometheus.NewRegistry()}
	r.cache.seed = maphash.MakeSeed()
	latency := func(name, help string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: LatencyBucketsMS},
			[]string{"service", "route", "workspace"})
	}
	r.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kong_http_requests_total", Help: "HTTP status codes per consumer/service/route in Kong",
	}, []string{"service", "route", "code", "source", "workspace", "consumer"})
	r.requestMS = latency("kong_request_latency_ms", "Total latency incurred during requests for each service/route in Kong")
	r.upstreamMS = latency("kong_upstream_latency_ms", "Latency added by upstream response for each service/route in Kong")
	r.kongMS = latency("kong_kong_latency_ms", "Latency added by Kong and enabled plugins for each service/route in Kong")
	r.reachable = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "kong_datastore_reachable", Help: "Datastore reachable from Kong, 0 is unreachable",
	})
	r.cacheHits = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "luahost_cache_hits_total", Help: "kong.cache / kong.core_cache gets answered from L1 (per worker) or L2 (shared)",
	}, []string{"cache", "level"})
	r.cacheMisses = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "luahost_cache_misses_total", Help: "kong.cache / kong.core_cache gets that ran the callback (hit level 3)",
	}, []string{"cache"})
	r.dbQuery = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "luahost_db_query_seconds", Help: "Time of data-layer calls by strategy and operation",
		Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
	}, []string{"strategy", "operation"})
	r.deadlineStops = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "luahost_lua_deadline_stops_total", Help: "Lua calls stopped by lua_timeout, by plugin and phase",
	}, []string{"plugin", "phase"})
	for i, name := range knownCaches {
		r.gets[i] = cacheCounters{l1: r.cacheHits.WithLabelValues(name, "1"), l2: r.cacheHits.WithLabelValues(name, "2"),
			miss: r.cacheMisses.WithLabelValues(name)}
	}
	r.reg.MustRegister(r.requests, r.requestMS, r.upstreamMS, r.kongMS, r.reachable,
		r.cacheHits, r.cacheMisses, r.dbQuery, r.deadlineStops,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Registry is where the collectors are registered (add your own).
func (r *Recorder) Registry() *prometheus.Registry { return r.reg }

// Handler serves the metrics in Prometheus' text format.
func (r *Recorder) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{Registry: r.reg})
}

// Request is what one proxied request reports (Kong's prometheus plugin
// reads the same from kong.log.serialize).
type Request struct {
	Service, Route, Workspace, Consumer string // names (or ids when unnamed); "" when none
	Status                              int
	// Source is Kong's: "service" (the upstream answered), "kong" (Kong or
	// a plugin exited), "exit" is reported as "kong".
	Source string
	// Total is the whole request (latencies.request); Upstream the wait
	// for the upstream (latencies.proxy), negative when the request was
	// not proxied (Kong's -1: not observed); Kong is Kong's own part
	// (latencies.kong: KONG_PROXY_LATENCY, or KONG_RESPONSE_LATENCY when
	// Kong answered).
	Total, Upstream, Kong time.Duration
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ObserveRequest counts a request and its latencies. After a request of
// the same labels has been seen once it allocates nothing and takes no
// lock (see series).
func (r *Recorder) ObserveRequest(q Request) {
	if r == nil {
		return
	}
	r.total.Add(1)
	s := r.series(&q)
	s.requests.Inc()
	if q.Total >= 0 {
		s.total.Observe(ms(q.Total))
	}
	if s.upstream != nil {
		s.upstream.Observe(ms(q.Upstream))
	}
	if q.Kong >= 0 {
		s.kong.Observe(ms(q.Kong))
	}
}

// CountRequest counts a request that has no series of its own (no Route
// matched) in TotalRequests only.
func (r *Recorder) CountRequest() {
	if r == nil {
		return
	}
	r.total.Add(1)
}

// TotalRequests is the number of requests observed (the /status
// server.total_requests).
func (r *Recorder) TotalRequests() int64 {
	if r == nil {
		return 0
	}
	return r.total.Load()
}

// CacheGet counts one kong.cache:get on cache ("kong.cache",
// "kong.core_cache") by Kong's hit level: 1 = L1, 2 = L2; any other level
// is a miss (3: the callback ran, 4: a stale value served after the
// callback failed, -1: not cached and no callback). For the two known
// caches it allocates nothing and takes no lock.
func (r *Recorder) CacheGet(cache string, level int) {
	if r == nil {
		return
	}
	for i := range knownCaches {
		if knownCaches[i] == cache {
			g := &r.gets[i]
			switch level {
			case 1:
				g.l1.Inc()
			case 2:
				g.l2.Inc()
			default:
				g.miss.Inc()
			}
			return
		}
	}
	if level == 1 || level == 2 {
		r.cacheHits.WithLabelValues(cache, strconv.Itoa(level)).Inc()
		return
	}
	r.cacheMisses.WithLabelValues(cache).Inc()
}

// ObserveDBQuery records the time of one data-layer call.
func (r *Recorder) ObserveDBQuery(strategy, operation string, d time.Duration) {
	if r == nil {
		return
	}
	r.dbQuery.WithLabelValues(strategy, operation).Observe(d.Seconds())
}

// DeadlineStop counts a Lua call stopped by lua_timeout.
func (r *Recorder) DeadlineStop(plugin, phase string) {
	if r == nil {
		return
	}
	r.deadlineStops.WithLabelValues(plugin, phase).Inc()
}

// SetDatastoreReachable sets kong_datastore_reachable.
func (r *Recorder) SetDatastoreReachable(ok bool) {
	if r == nil {
		return
	}
	if ok {
		r.reachable.Set(1)
	} else {
		r.reachable.Set(0)
	}
}

// PoolStat is the worker pool's state (host.PoolStat).
type PoolStat struct {
	Total, Idle, Min, Max        int
	Acquired, Created, Discarded int64
	Waiting                      int64
}

// WatchPool exports the worker pool's use, read from stat at each scrape.
func (r *Recorder) WatchPool(stat func() PoolStat) {
	if r == nil {
		return
	}
	gauge := func(name, help string, f func(PoolStat) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return f(stat()) })
	}
	counter := func(name, help string, f func(PoolStat) float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return f(stat()) })
	}
	r.reg.MustRegister(
		gauge("luahost_worker_pool_workers", "Lua workers alive", func(s PoolStat) float64 { return float64(s.Total) }),
		gauge("luahost_worker_pool_idle", "Lua workers idle", func(s PoolStat) float64 { return float64(s.Idle) }),
		gauge("luahost_worker_pool_busy", "Lua workers serving a request", func(s PoolStat) float64 { return float64(s.Total - s.Idle) }),
		gauge("luahost_worker_pool_max", "worker_max", func(s PoolStat) float64 { return float64(s.Max) }),
		gauge("luahost_worker_pool_waiting", "Requests waiting for a worker", func(s PoolStat) float64 { return float64(s.Waiting) }),
		counter("luahost_worker_pool_acquired_total", "Workers handed out", func(s PoolStat) float64 { return float64(s.Acquired) }),
		counter("luahost_worker_pool_created_total", "Workers built", func(s PoolStat) float64 { return float64(s.Created) }),
		counter("luahost_worker_pool_discarded_total", "Workers dropped (poisoned or closed)", func(s PoolStat) float64 { return float64(s.Discarded) }),
	)
}

// CacheStats is one cache's state (kongdb/cache.Stats).
type CacheStats struct {
	Entries, MissEntries, Evacuated, Loads int64
	HitRate                                float64
}

// WatchCache exports a cache's L2 state under the label cache=name, read
// from stats at each scrape.
func (r *Recorder) WatchCache(name string, stats func() CacheStats) {
	if r == nil {
		return
	}
	labels := prometheus.Labels{"cache": name}
	gauge := func(metric, help string, f func(CacheStats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: metric, Help: help, ConstLabels: labels},
			func() float64 { return f(stats()) })
	}
	r.reg.MustRegister(
		gauge("luahost_cache_l2_entries", "Values held in L2", func(s CacheStats) float64 { return float64(s.Entries) }),
		gauge("luahost_cache_l2_miss_entries", "Negative (nil) entries held in L2", func(s CacheStats) float64 { return float64(s.MissEntries) }),
		gauge("luahost_cache_l2_hit_rate", "L2 hit rate", func(s CacheStats) float64 { return s.HitRate }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "luahost_cache_l2_evictions_total", Help: "Entries evicted from L2 to make room", ConstLabels: labels},
			func() float64 { return float64(stats().Evacuated) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "luahost_cache_loads_total", Help: "Callback (loader) runs", ConstLabels: labels},
			func() float64 { return float64(stats().Loads) }),
	)
}

// ConnStats are the proxy's connection and request counters (nginx's
// stub_status; proxy.ConnStats).
type ConnStats struct {
	Accepted, Handled, Active, Reading, Writing, Waiting int64
	Requests                                             int64
}

// WatchConnections exports the proxy's counters as Kong's prometheus
// plugin does, read from stats at each scrape:
// kong_nginx_connections_total{node_id, subsystem, state} (accepted,
// handled, total, active, reading, writing, waiting) and
// kong_nginx_requests_total{node_id, subsystem}.
func (r *Recorder) WatchConnections(nodeID string, stats func() ConnStats) {
	if r == nil {
		return
	}
	r.reg.MustRegister(&connCollector{nodeID: nodeID, stats: stats,
		conns: prometheus.NewDesc("kong_nginx_connections_total", "Number of connections by subsystem",
			[]string{"node_id", "subsystem", "state"}, nil),
		requests: prometheus.NewDesc("kong_nginx_requests_total", "Number of requests total",
			[]string{"node_id", "subsystem"}, nil),
	})
}

// connCollector reads the counters once per scrape.
type connCollector struct {
	nodeID          string
	stats           func() ConnStats
	conns, requests *prometheus.Desc
}

func (c *connCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.conns
	ch <- c.requests
}

func (c *connCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	for _, v := range []struct {
		state string
		n     int64
	}{{"accepted", s.Accepted}, {"handled", s.Handled}, {"total", s.Requests}, {"active", s.Active},
		{"reading", s.Reading}, {"writing", s.Writing}, {"waiting", s.Waiting}} {
		ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(v.n), c.nodeID, "http", v.state)
	}
	ch <- prometheus.MustNewConstMetric(c.requests, prometheus.GaugeValue, float64(s.Requests), c.nodeID, "http")
}
