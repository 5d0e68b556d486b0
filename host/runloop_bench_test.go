package host

import (
	"net"
	"runtime"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/luahost/luahost/internal/proccpu"
	"github.com/luahost/luahost/proxy"
)

// BenchmarkRequestPath is one request through the proxy with the host's
// Runloop as its Phases, over loopback sockets (client and upstream in the
// process, so allocs/op counts theirs too): a route no plugin applies to
// (no worker used), one with a plugin whose handlers do nothing (the
// runloop's own cost: the request pinned to a worker, access,
// header_filter and log run in it), and one behind token-auth with its
// credential and consumer in the cache (access only: the request takes
// its worker for access alone). Compare the three in one run.
func BenchmarkRequestPath(b *testing.B) {
	c := testConf(b, "../plugins", "testdata/iter")
	c.Set("worker_max", "4", "test")
	n := newRLNode(b, c)
	up := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("ok") }}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go up.Serve(ln)
	defer up.Shutdown()
	n.upPort = ln.Addr().(*net.TCPAddr).Port
	n.route(b, "/open")
	noop, _ := n.route(b, "/noop")
	n.plugin(b, "noop", map[string]string{"route": noop}, map[string]any{})
	authed, _ := n.route(b, "/authed")
	consumer := n.insert(b, "consumers", map[string]any{"username": "bench"})
	n.insert(b, "token_credentials", map[string]any{"consumer": map[string]any{"id": consumer["id"]}, "key": "bench-key"})
	n.plugin(b, "token-auth", map[string]string{"route": authed}, map[string]any{})
	n.sync(b)

	// one connection per goroutine of the parallel runs
	client := &fasthttp.HostClient{Addr: strings.TrimPrefix(n.base, "http://"), MaxConns: 64 * runtime.GOMAXPROCS(0)}
	for _, tc := range []struct{ name, path, token string }{
		{"no-plugin", "/open", ""},
		{"noop-plugin", "/noop", ""},
		{"token-auth", "/authed", "bench-key"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(res)
			req.SetRequestURI(n.base + tc.path)
			if tc.token != "" {
				req.Header.Set("X-Api-Token", tc.token)
			}
			do := func() {
				if err := client.Do(req, res); err != nil {
					b.Fatal(err)
				}
				if res.StatusCode() != 200 {
					b.Fatalf("%s: %d %s", tc.path, res.StatusCode(), res.Body())
				}
			}
			do() // warm the cache
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				do()
			}
		})
		// 64 requests in flight per GOMAXPROCS (wrk's 64 connections
		// on one core with GOMAXPROCS=1): the pool's borrow and return
		// and the GC under concurrency, not only the serial path.
		b.Run(tc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(64)
			b.RunParallel(func(pb *testing.PB) {
				req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req)
				defer fasthttp.ReleaseResponse(res)
				req.SetRequestURI(n.base + tc.path)
				if tc.token != "" {
					req.Header.Set("X-Api-Token", tc.token)
				}
				for pb.Next() {
					if err := client.Do(req, res); err != nil {
						b.Error(err)
						return
					}
					if res.StatusCode() != 200 {
						b.Errorf("%s: %d %s", tc.path, res.StatusCode(), res.Body())
						return
					}
				}
			})
		})
	}
}

// BenchmarkRequestCPU is BenchmarkRequestPath without the kernel: the
// request handed to the proxy's handler in memory (fasthttp's
// RequestCtx.Init) and the upstream an in-memory listener, one request at
// a time. What it measures is the proxy's and the plugins' own CPU per
// request, steady on a loaded machine: token-auth minus no-plugin is what
// the plugin costs, in user space (bench/plugin.sh measures it with the
// sockets, against nginx + LuaJIT).
func BenchmarkRequestCPU(b *testing.B) {
	m := newMemNode(b)
	for _, tc := range []struct{ name, path, token string }{
		{"no-plugin", "/open", ""},
		{"noop-access", "/noop", ""},
		{"token-auth", "/authed", memNodeToken},
	} {
		b.Run(tc.name, func(b *testing.B) {
			do := m.request(b, tc.path, tc.token)
			do() // warm the cache
			b.ReportAllocs()
			b.ResetTimer()
			t0 := proccpu.Now()
			for i := 0; i < b.N; i++ {
				do()
			}
			// the process's CPU time per request: what a loaded machine
			// distorts least (wall time counts the other processes' turns)
			b.ReportMetric(float64(proccpu.Now()-t0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// memNode is a node whose proxy is driven in memory: requests handed to
// its handler (fasthttp's RequestCtx.Init), the upstream an in-memory
// listener. Routes: /open (no plugin), /noop (noop-access: an access
// handler that does nothing), /authed (token-auth, hide_credentials,
// one credential: memNodeToken).
type memNode struct{ n *rlNode }

const memNodeToken = "mem-key"

func newMemNode(tb testing.TB) memNode {
	tb.Helper()
	up := fasthttputil.NewInmemoryListener()
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("ok") }}
	go srv.Serve(up)
	tb.Cleanup(func() { srv.Shutdown() })
	c := testConf(tb, "../plugins", "testdata/iter")
	c.Set("worker_max", "1", "test")
	n := newRLNodeWith(tb, c, proxy.Config{Dial: func(string) (net.Conn, error) { return up.Dial() }})
	n.route(tb, "/open")
	noop, _ := n.route(tb, "/noop")
	n.plugin(tb, "noop-access", map[string]string{"route": noop}, map[string]any{})
	authed, _ := n.route(tb, "/authed")
	consumer := n.insert(tb, "consumers", map[string]any{"username": "mem"})
	n.insert(tb, "token_credentials", map[string]any{"consumer": map[string]any{"id": consumer["id"]}, "key": memNodeToken})
	n.plugin(tb, "token-auth", map[string]string{"route": authed}, map[string]any{"hide_credentials": true})
	n.sync(tb)
	return memNode{n}
}

// request returns a function serving one GET of path (with token in
// X-Api-Token unless empty), failing tb unless it answers 200.
func (m memNode) request(tb testing.TB, path, token string) func() {
	var req fasthttp.Request
	req.Header.SetHost("example.com")
	req.SetRequestURI(path)
	if token != "" {
		req.Header.Set("X-Api-Token", token)
	}
	var rc fasthttp.RequestCtx
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	return func() {
		rc.Init(&req, remote, nil)
		m.n.p.ServeHTTP(&rc)
		if rc.Response.StatusCode() != 200 {
			tb.Fatalf("%s: %d %s", path, rc.Response.StatusCode(), rc.Response.Body())
		}
	}
}
