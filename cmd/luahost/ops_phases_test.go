package main

import (
	"io"
	"net"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/luahost/luahost/logging"
	"github.com/luahost/luahost/metrics"
	"github.com/luahost/luahost/proxy"
	"github.com/luahost/luahost/router"
)

// inMemoryProxy is a proxy with one Route (no Service: Kong answers 503)
// whose requests are served in memory, Log included, by the function
// returned.
func inMemoryProxy(tb testing.TB, ph proxy.Phases) func() {
	tb.Helper()
	rt := &router.Versioned{}
	if _, err := rt.Rebuild([]router.Route{{ID: "00000000-0000-0000-0000-000000000001", Name: "ops", Paths: []string{"/ops"}}}, nil); err != nil {
		tb.Fatal(err)
	}
	p := proxy.New(rt, proxy.Config{KongVersion: "3.9.1"})
	p.Phases = ph
	var req fasthttp.Request
	req.SetRequestURI("/ops?x=1")
	req.Header.SetHost("example.com")
	req.Header.SetUserAgent("bench/1")
	req.Header.Set("Authorization", "Basic YW5uOnB3") // ann:pw
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	var rc fasthttp.RequestCtx
	return func() {
		rc.Init(&req, addr, nil)
		p.ServeHTTP(&rc)
	}
}

// withOps adds nothing when metrics and the access log are off, and
// nothing that allocates when they are on: a request costs the same
// allocations as with the bare phases.
func TestOpsPhasesAllocs(t *testing.T) {
	if ph := withOps(proxy.NopPhases{}, nil, nil); ph != (proxy.NopPhases{}) {
		t.Errorf("off: %T, not the inner phases", ph)
	}
	count := func(ph proxy.Phases) float64 {
		serve := inMemoryProxy(t, ph)
		serve()
		return testing.AllocsPerRun(200, serve)
	}
	bare := count(proxy.NopPhases{})
	var lines strings.Builder
	rec := metrics.New()
	fed := count(withOps(proxy.NopPhases{}, rec, logging.NewAccessLog(&lines, logging.FormatKong)))
	if fed > bare && !raceEnabled {
		t.Errorf("%v allocations per request with metrics and access log, %v without", fed, bare)
	}
	if rec.TotalRequests() != 202 || strings.Count(lines.String(), "\n") != 202 {
		t.Fatalf("fed %d requests, %d lines", rec.TotalRequests(), strings.Count(lines.String(), "\n"))
	}
	first, _, _ := strings.Cut(lines.String(), "\n")
	if !regexp.MustCompile(`^127\.0\.0\.1 - ann \[[^]]+\] "GET /ops\?x=1 HTTP/1\.1" 503 [1-9]\d* "-" "bench/1" kong_request_id: "[0-9a-f]{32}"$`).MatchString(first) {
		t.Errorf("line: %s", first)
	}
}

// What the decorator costs a request: compare the sub-benchmarks' ns/op
// and allocs/op with "bare" (the proxy's in-memory path with phases that
// do nothing).
func BenchmarkOpsPhases(b *testing.B) {
	for _, bc := range []struct {
		name   string
		rec    bool
		access bool
	}{{"bare", false, false}, {"metrics", true, false}, {"access_log", false, true}, {"both", true, true}} {
		b.Run(bc.name, func(b *testing.B) {
			var rec *metrics.Recorder
			if bc.rec {
				rec = metrics.New()
			}
			var al *logging.AccessLog
			if bc.access {
				al = logging.NewAccessLog(io.Discard, logging.FormatKong)
			}
			serve := inMemoryProxy(b, withOps(proxy.NopPhases{}, rec, al))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				serve()
			}
		})
	}
}

func scrapeRecorder(t *testing.T, rec *metrics.Recorder) string {
	t.Helper()
	w := httptest.NewRecorder()
	rec.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	return w.Body.String()
}
