package metrics_test

import (
	"io"
	"net/http/httptest"
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
		Total: 30 * time.Millisecond, Upstream: 20 * time.Millisecond})
	r.ObserveRequest(metrics.Request{Service: "svc", Route: "rt", Workspace: "default", Status: 401, Source: "kong",
		Total: 2 * time.Millisecond})
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
		`kong_http_requests_total{code="200",consumer="",route="rt",service="svc",source="service",workspace="default"} 1`,
		`kong_http_requests_total{code="401",consumer="",route="rt",service="svc",source="kong",workspace="default"} 1`,
		`kong_request_latency_ms_bucket{route="rt",service="svc",workspace="default",le="30"} 2`,
		`kong_upstream_latency_ms_count{route="rt",service="svc",workspace="default"} 1`,
		`kong_kong_latency_ms_bucket{route="rt",service="svc",workspace="default",le="10"} 2`,
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
	if r.TotalRequests() != 2 {
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
