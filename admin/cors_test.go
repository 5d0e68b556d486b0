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

// With admin_gui_url set, Access-Control-Allow-Origin is the request's
// Origin when it is one of the URLs' origins (scheme and authority, the
// path left out), else the first of them (Kong's admin_gui_origin and
// cors_filter); without, the Origin, else "*".
func TestCORSAllowOriginFromAdminGUIURL(t *testing.T) {
	c := testConf()
	c.Set("admin_gui_url", "http://admin.api:9100/path/to/any/way, https://other.test", "test")
	n := startAdmin(t, newHost(t, c))
	for _, tc := range []struct{ origin, want string }{
		{"", "http://admin.api:9100"},
		{"http://example.com", "http://admin.api:9100"},
		{"https://other.test", "https://other.test"},
		{"http://admin.api:9100", "http://admin.api:9100"},
	} {
		for _, m := range []string{"GET", "OPTIONS"} {
			r := n.doHeader(m, "/", "Origin", tc.origin)
			if got := r.Header.Get("Access-Control-Allow-Origin"); got != tc.want {
				t.Errorf("%s Origin %q: %q, want %q", m, tc.origin, got, tc.want)
			}
		}
	}
	n = startAdmin(t, newHost(t, testConf()))
	if got := n.doHeader("GET", "/", "Origin", "http://example.com").Header.Get("Access-Control-Allow-Origin"); got != "http://example.com" {
		t.Errorf("no admin_gui_url: %q", got)
	}
}
