//go:build !race

package host

// Not under -race: see request_allocs_test.go.

import (
	"net"
	"testing"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/luahost/luahost/proxy"
)

// TestKongLogFilteredAllocs: a handler's kong.log.debug(...) filtered out
// by the level allocates nothing once warm: kong.log is a plain field of
// kong, switched by the runloop (pdk.Instance.SetPluginName), not read
// through a Go __index. klog-debug logs a hundred times per request,
// klog-quiet runs the same loop without logging: their requests allocate
// as much.
func TestKongLogFilteredAllocs(t *testing.T) {
	up := fasthttputil.NewInmemoryListener()
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("ok") }}
	go srv.Serve(up)
	t.Cleanup(func() { srv.Shutdown() })
	c := testConf(t, "testdata/klog")
	c.Set("worker_max", "1", "test")
	n := newRLNodeWith(t, c, proxy.Config{Dial: func(string) (net.Conn, error) { return up.Dial() }})
	for _, p := range []string{"debug", "quiet"} {
		route, _ := n.route(t, "/"+p)
		n.plugin(t, "klog-"+p, map[string]string{"route": route}, map[string]any{})
	}
	n.sync(t)
	m := memNode{n}
	allocs := map[string]float64{}
	for _, p := range []string{"/debug", "/quiet"} {
		do := m.request(t, p, "")
		do()
		allocs[p] = fewestAllocs(200, do)
	}
	if allocs["/debug"] > allocs["/quiet"] {
		t.Errorf("a request logging 100 filtered lines: %.1f allocations, one not logging: %.1f",
			allocs["/debug"], allocs["/quiet"])
	}
}
