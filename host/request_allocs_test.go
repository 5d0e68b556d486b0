//go:build !race

package host

// Allocation budgets of the request path. Not under -race: the race
// detector makes sync.Pool drop items at random (the proxy's Contexts, the
// runloop's request states), so counts there say nothing; scripts/test.sh
// runs the tests named *Allocs* once more without -race.

import (
	"net"
	"testing"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/luahost/luahost/proxy"
)

// TestRequestPathAllocs: a request through the proxy and the runloop
// allocates once (its request id, as a string for the logs) with no plugin
// and with token-auth on a warm cache (no ngx.ctx table made, the token
// read from an interned string, the forwarded headers built in the
// pooled Context). RequestCtx.Init, the test's own, is the other one.
func TestRequestPathAllocs(t *testing.T) {
	up := fasthttputil.NewInmemoryListener()
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("ok") }}
	go srv.Serve(up)
	defer srv.Shutdown()
	c := testConf(t, "../plugins", "testdata/iter")
	c.Set("worker_max", "1", "test")
	n := newRLNodeWith(t, c, proxy.Config{Dial: func(string) (net.Conn, error) { return up.Dial() }})
	n.route(t, "/open")
	authed, _ := n.route(t, "/authed")
	consumer := n.insert(t, "consumers", map[string]any{"username": "allocs"})
	n.insert(t, "token_credentials", map[string]any{"consumer": map[string]any{"id": consumer["id"]}, "key": "allocs-key"})
	n.plugin(t, "token-auth", map[string]string{"route": authed}, map[string]any{"hide_credentials": true})
	n.sync(t)
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	for _, tc := range []struct{ path, token string }{{"/open", ""}, {"/authed", "allocs-key"}} {
		var req fasthttp.Request
		req.Header.SetHost("example.com")
		req.SetRequestURI(tc.path)
		if tc.token != "" {
			req.Header.Set("X-Api-Token", tc.token)
		}
		var rc fasthttp.RequestCtx
		do := func() {
			rc.Init(&req, remote, nil)
			n.p.ServeHTTP(&rc)
			if rc.Response.StatusCode() != 200 {
				t.Fatalf("%s: %d %s", tc.path, rc.Response.StatusCode(), rc.Response.Body())
			}
		}
		do()
		if got := testing.AllocsPerRun(200, do); got > 2 {
			t.Errorf("%s: %.1f allocations per request, want <= 2", tc.path, got)
		}
	}
}
