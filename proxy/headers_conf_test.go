package proxy

import (
	"net/http"
	"testing"

	"github.com/luahost/luahost/router"
)

// statusFilter's HeaderFilter records X-Kong-Upstream-Status as a plugin
// sees it, then answers 418.
type statusFilter struct {
	NopPhases
	seen string
}

func (f *statusFilter) HeaderFilter(c *Context) {
	f.seen = string(c.RequestCtx.Response.Header.Peek("X-Kong-Upstream-Status"))
	c.RequestCtx.Response.SetStatusCode(http.StatusTeapot)
}

// With headers = X-Kong-Upstream-Status, a proxied response carries the
// upstream's status, set before the plugins' header_filter (Kong's
// header_filter.before: a plugin changing the status leaves it); a
// response Kong made without the upstream has none.
func TestUpstreamStatusHeader(t *testing.T) {
	u := newUpstream(t)
	tp := startProxy(t, Config{Headers: []string{"server_tokens", "X-Kong-Upstream-Status"}}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
		{ID: "00000000-0000-0000-0000-000000000002", Paths: []string{"/nosvc"}},
	}, svc("s1", u.port))
	f := &statusFilter{}
	tp.p.Phases = f
	res, _ := do(t, "GET", "http://"+tp.addr+"/ok", nil, "")
	if res.StatusCode != http.StatusTeapot || res.Header.Get("X-Kong-Upstream-Status") != "200" || f.seen != "200" {
		t.Errorf("proxied: %d %q, header_filter saw %q", res.StatusCode, res.Header.Get("X-Kong-Upstream-Status"), f.seen)
	}
	f.seen = ""
	res, _ = do(t, "GET", "http://"+tp.addr+"/nosvc", nil, "")
	if v, ok := res.Header["X-Kong-Upstream-Status"]; ok || f.seen != "" {
		t.Errorf("not proxied: %d %q, header_filter saw %q", res.StatusCode, v, f.seen)
	}
}

// Kong's conf_loader: `headers` is all off only when its first token is
// "off"; an "off" after other tokens is ignored.
func TestResolveHeadersOff(t *testing.T) {
	if e := resolveHeaders([]string{"off", "server_tokens"}); e != (enabledHeaders{}) {
		t.Errorf("off first: %+v", e)
	}
	e := resolveHeaders([]string{"server_tokens", "off", "X-Kong-Proxy-Latency"})
	if want := (enabledHeaders{server: true, via: true, proxyLatency: true}); e != want {
		t.Errorf("off later: %+v, want %+v", e, want)
	}
}

// headers_upstream's tokens are read ignoring case, and off turns them
// off only first (Kong's conf_loader).
func TestHeadersUpstreamTokens(t *testing.T) {
	for _, tc := range []struct {
		list []string
		want bool
	}{
		{nil, true}, {[]string{"X-Kong-Request-Id"}, true}, {[]string{" x-kong-request-id "}, true},
		{[]string{"off", "x-kong-request-id"}, false}, {[]string{"x-kong-request-id", "off"}, true}, {[]string{}, false},
	} {
		if p := New(&router.Versioned{}, Config{HeadersUpstream: tc.list}); p.reqIDUp != tc.want {
			t.Errorf("%q: request id upstream %v", tc.list, p.reqIDUp)
		}
	}
}

// nginx's realip module reads real_ip_header's addresses with a port too
// ("ip:port", "[v6]:port"), recursive or not.
func TestRealIPWithPorts(t *testing.T) {
	trusted, _ := ParseTrustedIPs([]string{"127.0.0.1", "172.16.0.1", "192.168.0.1"})
	for _, tc := range []struct {
		recursive bool
		v, want   string
	}{
		{true, "127.0.0.1:14, 10.0.0.1:15, 192.168.0.1:16, 127.0.0.1:17, 172.16.0.1:18", "10.0.0.1"},
		{true, "127.0.0.1, 10.0.0.1, 192.168.0.1", "10.0.0.1"},
		{false, "10.0.0.1:15, 192.168.0.1:16", "192.168.0.1"},
		{false, "[::1]:80", "::1"},
		{false, "10.0.0.3", "10.0.0.3"},
	} {
		p := New(&router.Versioned{}, Config{TrustedIPs: trusted, RealIPRecursive: tc.recursive})
		a, ok := p.realIP([]byte(tc.v))
		if !ok || a.String() != tc.want {
			t.Errorf("%q (recursive %v): %v %v, want %s", tc.v, tc.recursive, a, ok, tc.want)
		}
	}
}
