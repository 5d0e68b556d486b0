package proxy

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/luahost/luahost/balancer"
	"github.com/luahost/luahost/dnsclient"
	"github.com/luahost/luahost/dnsclient/dnstest"
	"github.com/luahost/luahost/router"
)

// A Service host that is a name is resolved by Kong's DNS client: an SRV
// name sends the request to its target's address and the record's port
// (the Host then carrying that port, unless preserved), an A name to its
// address and the Service's port; one that does not exist, or has no
// record of the types tried, is Kong's 503 "name resolution failed"; a
// DNS server failing is Kong's 500.
func TestServiceHostResolved(t *testing.T) {
	a, b := newUpstream(t), newUpstream(t)
	srv := dnstest.Start(t)
	srv.Set("_http._tcp.svc.test", dnsclient.TypeSRV, fmt.Sprintf("_http._tcp.svc.test. 30 IN SRV 10 5 %d up.test.", a.port))
	srv.Set("up.test", dnsclient.TypeA, "up.test. 30 IN A 127.0.0.1")
	srv.Set("v6only.test", dnsclient.TypeAAAA, "v6only.test. 30 IN AAAA ::1")
	srv.Rcode("broken.test", 2)
	dns := srv.Client(t, nil, "")

	service := func(id, host string, port int) *router.Service {
		s := svc(id, port)
		s.Host = host
		return s
	}
	route := func(n int, path, sid string, preserve bool) router.Route {
		return router.Route{ID: fmt.Sprintf("00000000-0000-0000-0000-00000000000%d", n), Paths: []string{path},
			ServiceID: sid, PreserveHost: preserve}
	}
	tp := startProxy(t, Config{DNS: dns}, []router.Route{
		route(1, "/srv", "s1", false), route(2, "/keep", "s1", true), route(3, "/a", "s2", false),
		route(4, "/missing", "s3", false), route(5, "/empty", "s4", false), route(6, "/broken", "s5", false),
	}, service("s1", "_http._tcp.svc.test", deadPort(t)), service("s2", "up.test", b.port),
		service("s3", "nowhere.test", 80), service("s4", "v6only.test", 80), service("s5", "broken.test", 80))

	res, body := do(t, "GET", "http://"+tp.addr+"/srv", nil, "")
	if res.StatusCode != 200 || body != "GET /srv " {
		t.Fatalf("SRV host: %d %q", res.StatusCode, body)
	}
	if h := a.last(t).Host; h != fmt.Sprintf("_http._tcp.svc.test:%d", a.port) {
		t.Fatalf("Host %q: want the name with the SRV record's port", h)
	}
	do(t, "GET", "http://"+tp.addr+"/keep", map[string]string{"Host": "client.test"}, "")
	if h := a.last(t).Host; h != "client.test" {
		t.Fatalf("preserve_host: Host %q", h)
	}
	res, body = do(t, "GET", "http://"+tp.addr+"/a", nil, "")
	if res.StatusCode != 200 || b.last(t).Host != fmt.Sprintf("up.test:%d", b.port) {
		t.Fatalf("A host: %d %q, Host %q", res.StatusCode, body, b.last(t).Host)
	}

	for _, path := range []string{"/missing", "/empty"} {
		res, body = do(t, "GET", "http://"+tp.addr+path, nil, "")
		rid := res.Header.Get("X-Kong-Request-Id")
		if res.StatusCode != 503 || body != "{\n  \"message\":\"name resolution failed\",\n  \"request_id\":\""+rid+"\"\n}" {
			t.Fatalf("%s: %d %q", path, res.StatusCode, body)
		}
	}
	res, body = do(t, "GET", "http://"+tp.addr+"/broken", nil, "")
	if res.StatusCode != 500 ||
		!strings.Contains(body, `"message":"failed the initial dns/balancer resolve for 'broken.test' with: dns server error: 2 server failure"`) {
		t.Fatalf("server failure: %d %q", res.StatusCode, body)
	}
}

// An Upstream target whose name has SRV records is balanced over the
// records' targets, at their ports, end to end.
func TestUpstreamSRVTarget(t *testing.T) {
	a, b := newUpstream(t), newUpstream(t)
	srv := dnstest.Start(t)
	srv.Set("svc.test", dnsclient.TypeSRV,
		fmt.Sprintf("svc.test. 30 IN SRV 10 10 %d one.test.", a.port),
		fmt.Sprintf("svc.test. 30 IN SRV 10 30 %d two.test.", b.port))
	srv.Set("one.test", dnsclient.TypeA, "one.test. 30 IN A 127.0.0.1")
	srv.Set("two.test", dnsclient.TypeA, "two.test. 30 IN A 127.0.0.1")
	reg := &balancer.Registry{DNS: srv.Client(t, nil, "")}
	t.Cleanup(reg.Close)
	reg.Rebuild(context.Background(), []map[string]any{upstreamRow(nil)}, []map[string]any{{
		"id": "t-srv", "target": "svc.test:1", "weight": float64(100), "upstream": map[string]any{"id": upID}, "created_at": float64(1)}})
	s := svc("s1", 80)
	s.Host = "my-upstream"
	tp := startProxy(t, Config{Balancer: reg}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"}}, s)
	for i := 0; i < 40; i++ {
		if res, body := do(t, "GET", "http://"+tp.addr+"/x", nil, ""); res.StatusCode != 200 {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
	}
	if count(a) != 10 || count(b) != 30 {
		t.Fatalf("requests %d and %d, want 10 and 30 (the SRV weights)", count(a), count(b))
	}
	if h := b.last(t).Host; h != fmt.Sprintf("svc.test:%d", b.port) {
		t.Fatalf("Host %q", h)
	}
}
