package proxy

import (
	"bufio"
	"net"
	"strings"
	"testing"

	"github.com/luahost/luahost/router"
	"github.com/valyala/fasthttp"
)

// TestProxyHeadersNotForwarded: Kong's access.after clears a request's
// Proxy (httpoxy) and Proxy-Connection headers, whatever the case of
// their names, and keeps Proxy-Authorization and Proxy-Authenticate.
func TestProxyHeadersNotForwarded(t *testing.T) {
	u := newRawUpstream(t)
	dial := func(string) (net.Conn, error) { return u.ln.Dial() }
	s := &router.Service{ID: "s1", Protocol: "http", Host: "127.0.0.1", Port: 8080,
		ConnectTimeout: 2000, ReadTimeout: 2000, WriteTimeout: 2000}
	rt := &router.Versioned{}
	if _, err := rt.Rebuild([]router.Route{{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/r"}, ServiceID: "s1"}},
		map[string]*router.Service{"s1": s}); err != nil {
		t.Fatal(err)
	}
	p := New(rt, Config{KongVersion: "3.9.1", Dial: dial})
	for _, raw := range []string{
		"GET /r/plain HTTP/1.1\r\nHost: example.com\r\nProxy: Remove-Me\r\nProxy-Connection: close\r\n" +
			"Proxy-Authorization: Basic x\r\nProxy-Authenticate: Basic\r\nX-Keep: k\r\n\r\n",
		"GET /r/plain HTTP/1.1\r\nHost: example.com\r\nproxy: Remove-Me\r\nPROXY-CONNECTION: close\r\n" +
			"Proxy-Authorization: Basic x\r\nProxy-Authenticate: Basic\r\nX-Keep: k\r\n\r\n",
	} {
		for _, asSent := range []bool{true, false} {
			var req fasthttp.Request
			if asSent {
				req.Header.DisableNormalizing()
			}
			if err := req.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
				t.Fatal(err)
			}
			var rc fasthttp.RequestCtx
			rc.Init(&req, &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 5555}, nil)
			p.ServeHTTP(&rc)
			got := strings.ToLower(u.last())
			for _, gone := range []string{"\nproxy:", "\nproxy-connection:"} {
				if strings.Contains(got, gone) {
					t.Errorf("as sent %v: upstream got %q:\n%s", asSent, gone[1:], got)
				}
			}
			for _, kept := range []string{"\nproxy-authorization: basic x", "\nproxy-authenticate: basic", "\nx-keep: k"} {
				if !strings.Contains(got, kept) {
					t.Errorf("as sent %v: upstream lacks %q:\n%s", asSent, kept[1:], got)
				}
			}
		}
	}
}
