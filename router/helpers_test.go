package router

import (
	"fmt"
	"testing"
)

// id is the route id the Kong spec uses: id(1) is
// "e8fb37f1-102d-461e-9c51-6608a6bb8101".
func id(n int) string { return fmt.Sprintf("e8fb37f1-102d-461e-9c51-6608a6bb81%02d", n) }

// testService is the spec's `service` (name "service-invalid", protocol http).
var testServices = map[string]*Service{
	"svc": {ID: "svc", Name: "service-invalid", Protocol: "http", Host: "example.org"},
}

// withSvc gives every route without a ServiceID the test service, and
// Kong's strip_path default.
func withSvc(routes ...Route) []Route {
	for i := range routes {
		if routes[i].ServiceID == "" {
			routes[i].ServiceID = "svc"
		}
	}
	return routes
}

func mustNew(t testing.TB, routes []Route, opts ...Option) *Router {
	t.Helper()
	r, err := New(routes, testServices, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// get is router:select / exec with the arguments the spec passes.
func get(method, uri, host string) *Request {
	return &Request{Method: method, URI: uri, Host: host, Scheme: "http", DstPort: 80}
}

func withHeaders(req *Request, h map[string][]string) *Request {
	req.Headers = MapHeaders(h)
	return req
}

type routeCase struct {
	name string
	req  *Request
	want int // route id number; 0 = no match
}

func runCases(t *testing.T, r *Router, cases []routeCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := r.Match(c.req)
			switch {
			case c.want == 0 && m != nil:
				t.Fatalf("matched route %s, want no match", m.Route.ID)
			case c.want != 0 && m == nil:
				t.Fatalf("no match, want route %s", id(c.want))
			case c.want != 0 && m.Route.ID != id(c.want):
				t.Fatalf("matched route %s, want %s", m.Route.ID, id(c.want))
			}
		})
	}
}
