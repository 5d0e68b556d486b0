package admin

import "testing"

// An OPTIONS request answers 204 with the route's methods in Allow and
// Access-Control-Allow-Methods, and Access-Control-Allow-Headers echoing
// the request's Access-Control-Request-Headers or, without one,
// "Content-Type" (Kong's api_helpers options handler).
func TestOptionsCORSHeaders(t *testing.T) {
	n := startAdmin(t, newHost(t, testConf()))
	r := n.do("OPTIONS", "/routes", nil)
	if r.Status != 204 || r.Header.Get("Allow") != "GET, HEAD, OPTIONS, POST" ||
		r.Header.Get("Access-Control-Allow-Methods") != "GET, HEAD, OPTIONS, POST" ||
		r.Header.Get("Access-Control-Allow-Headers") != "Content-Type" ||
		r.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatal(r.Status, r.Header)
	}
	r = n.doHeader("OPTIONS", "/routes", "Access-Control-Request-Headers", "X-Custom")
	if r.Status != 204 || r.Header.Get("Access-Control-Allow-Headers") != "X-Custom" {
		t.Fatal(r.Status, r.Header)
	}
}
