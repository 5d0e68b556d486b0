package router_test

import (
	"fmt"

	"github.com/luahost/luahost/router"
)

// The proxy keeps one Versioned, rebuilds it on routes/services CRUD events,
// and routes every request with one atomic load.
func Example() {
	var rt router.Versioned
	_, err := rt.Rebuild([]router.Route{{
		ID:        "6c0e1c2a-8d33-4b55-9d3e-4c1d5b9e0001",
		Hosts:     []string{"*.example.com"},
		Paths:     []string{`~/users/(?<id>\d+)`},
		StripPath: true,
		ServiceID: "users",
	}}, map[string]*router.Service{
		"users": {ID: "users", Protocol: "http", Host: "users.internal", Port: 8080, Path: "/v2"},
	})
	if err != nil {
		panic(err)
	}

	m := rt.Match(&router.Request{
		Method: "GET", Host: "api.example.com", URI: "/users/42/orders?page=2", Scheme: "http", DstPort: 80,
	})
	if m == nil {
		fmt.Println(404) // "no Route matched with those values"
		return
	}
	if m.Service == nil {
		fmt.Println(503) // "no Service found with those values"
		return
	}
	if code := m.HTTPSRedirectStatus("http"); code != 0 {
		fmt.Println(code)
		return
	}
	uid, _ := m.URICaptures.Named("id")
	fmt.Println(m.UpstreamScheme, m.UpstreamHostname, m.UpstreamPort)
	fmt.Println(router.EscapeURI(m.UpstreamURI), m.UpstreamHost, uid)
	// Output:
	// http users.internal 8080
	// /v2/orders users.internal:8080 42
}
