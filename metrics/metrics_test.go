package metrics_test

import (
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/luahost/luahost/metrics"
)

func scrape(t *testing.T, r *metrics.Recorder) string {
	t.Helper()
	w := httptest.NewRecorder()
	r.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(w.Result().Body)
	return string(b)
}

// What the proxy, the caches, the DAO and the host report shows on
// /metrics under Kong's names (requests, latencies) and luahost's.
func TestRecorder(t *testing.T) {
	r := metrics.New()
	r.ObserveRequest(metrics.Request{Service: "svc", Route: "rt", Workspace: "default", Status: 200,
		Total: 30 * time.Millisecond, Upstream: 20 * time.Millisecond, Kong: 9 * time.Millisecond})
	r.ObserveRequest(metrics.Request{Service: "svc", Route: "rt", Workspace: "default", Status: 401, Source: "exit",
		Total: 2 * time.Millisecond, Upstream: -1, Kong: 2 * time.Millisecond})
	r.ObserveRequest(metrics.Request{Service: "svc", Route: "rt", Workspace: "default", Status: 200,
		Total: 40 * time.Millisecond, Upstream: 35 * time.Millisecond, Kong: 5 * time.Millisecond})
	r.CacheGet("kong.cache", 1)
	r.CacheGet("kong.cache", 1)
	r.CacheGet("kong.cache", 2)
	r.CacheGet("kong.cache", 3)
	r.ObserveDBQuery("postgres", "select", 3*time.Millisecond)
	r.DeadlineStop("slow-plugin", "access")
	r.WatchPool(func() metrics.PoolStat { return metrics.PoolStat{Total: 4, Idle: 1, Max: 8, Acquired: 10} })
	r.WatchCache("kong.core_cache", func() metrics.CacheStats { return metrics.CacheStats{Entries: 7, Loads: 3} })
	r.SetDatastoreReachable(true)
	out := scrape(t, r)
	for _, want := range []string{
		`kong_http_requests_total{code="200",consumer="",route="rt",service="svc",source="service",workspace="default"} 2`,
		`kong_http_requests_total{code="401",consumer="",route="rt",service="svc",source="kong",workspace="default"} 1`,
		`kong_request_latency_ms_bucket{route="rt",service="svc",workspace="default",le="30"} 2`,
		`kong_request_latency_ms_bucket{route="rt",service="svc",workspace="default",le="50"} 3`,
		`kong_upstream_latency_ms_count{route="rt",service="svc",workspace="default"} 2`,
		`kong_upstream_latency_ms_bucket{route="rt",service="svc",workspace="default",le="20"} 1`,
		`kong_kong_latency_ms_bucket{route="rt",service="svc",workspace="default",le="5"} 2`,
		`kong_kong_latency_ms_bucket{route="rt",service="svc",workspace="default",le="10"} 3`,
		`luahost_cache_hits_total{cache="kong.cache",level="1"} 2`,
		`luahost_cache_hits_total{cache="kong.cache",level="2"} 1`,
		`luahost_cache_misses_total{cache="kong.cache"} 1`,
		`luahost_db_query_seconds_count{operation="select",strategy="postgres"} 1`,
		`luahost_lua_deadline_stops_total{phase="access",plugin="slow-plugin"} 1`,
		`luahost_worker_pool_busy 3`,
		`luahost_worker_pool_acquired_total 10`,
		`luahost_cache_l2_entries{cache="kong.core_cache"} 7`,
		`luahost_cache_loads_total{cache="kong.core_cache"} 3`,
		`kong_datastore_reachable 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if r.TotalRequests() != 3 {
		t.Errorf("total %d", r.TotalRequests())
	}
	// a nil recorder takes every call
	var none *metrics.Recorder
	none.ObserveRequest(metrics.Request{})
	none.CacheGet("x", 1)
	none.DeadlineStop("p", "access")
	none.ObserveDBQuery("off", "select", 0)
	none.SetDatastoreReachable(false)
	none.WatchPool(nil)
	none.WatchCache("x", nil)
	if none.TotalRequests() != 0 {
		t.Error("nil recorder counted")
	}
}

// A request whose labels were seen before allocates nothing.
func TestObserveRequestAllocs(t *testing.T) {
	r := metrics.New()
	q := metrics.Request{Service: "svc", Route: "rt", Workspace: "default", Status: 200, Source: "service",
		Total: 3 * time.Millisecond, Upstream: 2 * time.Millisecond, Kong: time.Millisecond}
	r.ObserveRequest(q)
	// (AllocsPerRun makes one more call than it counts)
	if n := testing.AllocsPerRun(100, func() { r.ObserveRequest(q) }); n != 0 {
		t.Errorf("%v allocations per request", n)
	}
	if out := scrape(t, r); !strings.Contains(out, `kong_http_requests_total{code="200",consumer="",route="rt",service="svc",source="service",workspace="default"} 102`) {
		t.Errorf("count: %s", out)
	}
}

// Many label combinations from many goroutines: each counted once per
// request (the copy-on-write shards lose nothing).
func TestObserveRequestConcurrent(t *testing.T) {
	r := metrics.New()
	const goroutines, routes, each = 4, 50, 20
	done := make(chan struct{})
	for g := 0; g < goroutines; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < each; i++ {
				for rt := 0; rt < routes; rt++ {
					r.ObserveRequest(metrics.Request{Route: "r" + strconv.Itoa(rt), Status: 200 + rt%3, Source: "service"})
				}
			}
		}()
	}
	for g := 0; g < goroutines; g++ {
		<-done
	}
	out := scrape(t, r)
	for rt := 0; rt < routes; rt++ {
		want := `kong_http_requests_total{code="` + strconv.Itoa(200+rt%3) + `",consumer="",route="r` + strconv.Itoa(rt) +
			`",service="",source="service",workspace=""} ` + strconv.Itoa(goroutines*each)
		if !strings.Contains(out, want) {
			t.Errorf("lacks %s", want)
		}
	}
}

func BenchmarkObserveRequest(b *testing.B) {
	r := metrics.New()
	q := metrics.Request{Service: "svc", Route: "rt", Workspace: "default", Status: 200, Source: "service",
		Total: 3 * time.Millisecond, Upstream: 2 * time.Millisecond, Kong: time.Millisecond}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.ObserveRequest(q)
		}
	})
}

// kong.cache's gets are counted on the hit path: no allocation, for
// every level, and unknown levels count as misses.
func TestCacheGetAllocs(t *testing.T) {
	r := metrics.New()
	allocs := testing.AllocsPerRun(100, func() {
		r.CacheGet("kong.cache", 1)
		r.CacheGet("kong.core_cache", 2)
		r.CacheGet("kong.cache", 3)
		r.CacheGet("kong.cache", -1)
	})
	if allocs > 0 {
		t.Errorf("CacheGet allocates %.1f times", allocs)
	}
	out := scrape(t, r)
	for _, want := range []string{
		`luahost_cache_hits_total{cache="kong.cache",level="1"} 101`,
		`luahost_cache_hits_total{cache="kong.core_cache",level="2"} 101`,
		`luahost_cache_misses_total{cache="kong.cache"} 202`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// The proxy's counters show as Kong's kong_nginx_* gauges.
func TestWatchConnections(t *testing.T) {
	r := metrics.New()
	r.WatchConnections("node-1", func() metrics.ConnStats {
		return metrics.ConnStats{Accepted: 7, Handled: 7, Active: 3, Reading: 1, Writing: 1, Waiting: 1, Requests: 40}
	})
	out := scrape(t, r)
	for _, want := range []string{
		`kong_nginx_connections_total{node_id="node-1",state="accepted",subsystem="http"} 7`,
		`kong_nginx_connections_total{node_id="node-1",state="handled",subsystem="http"} 7`,
		`kong_nginx_connections_total{node_id="node-1",state="total",subsystem="http"} 40`,
		`kong_nginx_connections_total{node_id="node-1",state="active",subsystem="http"} 3`,
		`kong_nginx_connections_total{node_id="node-1",state="reading",subsystem="http"} 1`,
		`kong_nginx_connections_total{node_id="node-1",state="writing",subsystem="http"} 1`,
		`kong_nginx_connections_total{node_id="node-1",state="waiting",subsystem="http"} 1`,
		`kong_nginx_requests_total{node_id="node-1",subsystem="http"} 40`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
