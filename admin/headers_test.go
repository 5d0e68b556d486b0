package admin

import (
	"strings"
	"testing"
)

// Kong's admin_header_filter: Server and X-Kong-Admin-Latency as `headers`
// enables them (server_tokens, latency_tokens, or the names themselves;
// both by default); headers = off sends neither.
func TestAdminHeadersSetting(t *testing.T) {
	for _, tc := range []struct {
		headers         string // "" : unset
		server, latency bool
	}{
		{"", true, true},
		{"off", false, false},
		{"latency_tokens", false, true},
		{"server_tokens", true, false},
		{"Server, X-Kong-Admin-Latency", true, true},
	} {
		c := testConf()
		if tc.headers != "" {
			c.Set("headers", tc.headers, "test")
		}
		n := startAdmin(t, newHost(t, c))
		r := n.do("GET", "/", nil)
		if got := strings.HasPrefix(r.Header.Get("Server"), "kong/"); got != tc.server || (!tc.server && r.Header.Get("Server") != "") {
			t.Errorf("headers=%q: Server %q", tc.headers, r.Header.Get("Server"))
		}
		if got := r.Header.Get("X-Kong-Admin-Latency") != ""; got != tc.latency {
			t.Errorf("headers=%q: X-Kong-Admin-Latency %q", tc.headers, r.Header.Get("X-Kong-Admin-Latency"))
		}
	}
}
