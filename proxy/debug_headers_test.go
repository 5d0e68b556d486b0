package proxy

import (
	"net/http"
	"testing"

	"github.com/luahost/luahost/router"
)

// Kong's add_debug_headers: with allow_debug_header on, a request with a
// Kong-Debug header (any case, '_' for '-', any value) gets the matched
// Route's and Service's ids and names, each only when the entity has it:
// on a proxied response, on the proxy's own answer after routing (503 no
// Service), never without the header, the setting, or a Route matched.
func TestProxyDebugHeaders(t *testing.T) {
	u := newUpstream(t)
	const (
		named   = "00000000-0000-4000-8000-000000000001"
		unnamed = "00000000-0000-4000-8000-000000000002"
		nosvc   = "00000000-0000-4000-8000-000000000003"
	)
	s1 := svc("10000000-0000-4000-8000-000000000001", u.port)
	s1.Name = "my-service"
	s2 := svc("10000000-0000-4000-8000-000000000002", u.port)
	routes := []router.Route{
		{ID: named, Name: "my-route", Paths: []string{"/named"}, ServiceID: s1.ID, StripPath: true},
		{ID: unnamed, Paths: []string{"/unnamed"}, ServiceID: s2.ID, StripPath: true},
		{ID: nosvc, Name: "lonely", Paths: []string{"/nosvc"}},
	}
	on := startProxy(t, Config{AllowDebugHeader: true}, routes, s1, s2)
	off := startProxy(t, Config{}, routes, s1, s2)

	type want struct{ routeID, routeName, serviceID, serviceName string }
	check := func(name string, res *http.Response, w want) {
		t.Helper()
		got := want{res.Header.Get("Kong-Route-Id"), res.Header.Get("Kong-Route-Name"),
			res.Header.Get("Kong-Service-Id"), res.Header.Get("Kong-Service-Name")}
		if got != w {
			t.Errorf("%s: debug headers %+v, want %+v", name, got, w)
		}
		for _, k := range []string{"Kong-Route-Id", "Kong-Route-Name", "Kong-Service-Id", "Kong-Service-Name"} {
			if n := len(res.Header.Values(k)); n > 1 {
				t.Errorf("%s: %d %s lines", name, n, k)
			}
		}
	}
	debug := map[string]string{"Kong-Debug": "1"}

	res, body := do(t, "GET", "http://"+on.addr+"/named", debug, "")
	if res.StatusCode != 200 || res.Header.Get("X-Upstream") != "yes" {
		t.Fatalf("proxied: %d %q", res.StatusCode, body)
	}
	check("named route and service", res, want{named, "my-route", s1.ID, "my-service"})

	res, _ = do(t, "GET", "http://"+on.addr+"/unnamed", map[string]string{"kong_debug": ""}, "")
	check("unnamed route and service, kong_debug with an empty value", res, want{routeID: unnamed, serviceID: s2.ID})

	res, body = do(t, "GET", "http://"+on.addr+"/nosvc", map[string]string{"KONG-DEBUG": "yes"}, "")
	if res.StatusCode != 503 {
		t.Fatalf("no Service: %d %q", res.StatusCode, body)
	}
	check("route without a service", res, want{routeID: nosvc, routeName: "lonely"})

	res, _ = do(t, "GET", "http://"+on.addr+"/named", nil, "")
	check("no Kong-Debug header", res, want{})
	res, _ = do(t, "GET", "http://"+on.addr+"/nothing", debug, "")
	check("no route matched", res, want{})
	res, _ = do(t, "GET", "http://"+off.addr+"/named", debug, "")
	check("allow_debug_header off", res, want{})
}
