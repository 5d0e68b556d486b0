//go:build !race

package proxy

// Not under -race: the race detector makes sync.Pool drop items at random
// (the proxy's Contexts), so counts there say nothing.

import (
	"bufio"
	"net"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/luahost/luahost/router"
)

// TestHeaderCaseAllocs: finding the headers Kong sets or removes whatever
// the case of their names costs a request no allocation: requests and
// upstream responses with those names in mixed case, with Cookie headers
// (the names then read from the header's serialisation), with Connection
// naming other headers, from a trusted client, allocate no more than a
// request with none of them.
func TestHeaderCaseAllocs(t *testing.T) {
	up := fasthttputil.NewInmemoryListener()
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if string(ctx.Path()) == "/r/mixed" {
			h := &ctx.Response.Header
			h.DisableNormalizing()
			for _, kv := range [][2]string{{"CONNECTION", "X-Up-Hop, keep-alive"}, {"x-up-hop", "1"}, {"Keep-alive", "timeout=5"},
				{"UPGRADE", "u"}, {"via", "1.1 up"}, {"x-kong-request-id", "up"}, {"X-KONG-PROXY-LATENCY", "1"}} {
				h.SetCanonical([]byte(kv[0]), []byte(kv[1]))
			}
		}
		ctx.SetBodyString("ok")
	}}
	go srv.Serve(up) //nolint:errcheck
	t.Cleanup(func() { srv.Shutdown() })

	s := &router.Service{ID: "s1", Protocol: "http", Host: "127.0.0.1", Port: 8080, ConnectTimeout: 2000, ReadTimeout: 2000,
		WriteTimeout: 2000}
	rt := &router.Versioned{}
	if _, err := rt.Rebuild([]router.Route{{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/r"}, ServiceID: "s1"}},
		map[string]*router.Service{"s1": s}); err != nil {
		t.Fatal(err)
	}
	trusted, _ := ParseTrustedIPs([]string{"10.0.0.0/8"})
	p := New(rt, Config{KongVersion: "3.9.1", Dial: func(string) (net.Conn, error) { return up.Dial() }, TrustedIPs: trusted})

	allocs := func(peer, raw string) float64 {
		var req fasthttp.Request
		req.Header.DisableNormalizing() // as the proxy's server reads it
		if err := req.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
			t.Fatal(err)
		}
		var rc fasthttp.RequestCtx
		addr := &net.TCPAddr{IP: net.ParseIP(peer), Port: 5555}
		do := func() {
			rc.Init(&req, addr, nil)
			p.ServeHTTP(&rc)
			if rc.Response.StatusCode() != 200 {
				t.Fatalf("%d %s", rc.Response.StatusCode(), rc.Response.Body())
			}
		}
		do()
		return testing.AllocsPerRun(200, do)
	}
	base := allocs("127.0.0.1", "GET /r/plain HTTP/1.1\r\nHost: example.com\r\nUser-Agent: ua\r\nAccept: */*\r\n\r\n")
	for _, tc := range []struct{ name, peer, raw string }{
		{"canonical", "127.0.0.1", "GET /r/plain HTTP/1.1\r\nHost: example.com\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n" +
			"Keep-Alive: 1\r\nTE: trailers\r\nVia: 1.0 c\r\nX-Forwarded-For: 1.2.3.4\r\nX-Real-IP: 1.1.1.1\r\n\r\n"},
		{"mixed", "127.0.0.1", "GET /r/mixed HTTP/1.1\r\nHost: example.com\r\n" + mixedHeaders + "\r\n"},
		{"mixed trusted", "10.1.2.3", "GET /r/mixed HTTP/1.1\r\nHost: example.com\r\n" + mixedHeaders + "\r\n"},
		{"mixed cookies", "127.0.0.1", "GET /r/mixed HTTP/1.1\r\nHost: example.com\r\ncookie: a=b\r\n" + mixedHeaders +
			"Cookie: c=d\r\n\r\n"},
		{"mixed cookies trusted", "10.1.2.3", "GET /r/mixed HTTP/1.1\r\nHost: example.com\r\ncookie: a=b\r\n" + mixedHeaders +
			"Cookie: c=d\r\n\r\n"},
	} {
		if got := allocs(tc.peer, tc.raw); got > base {
			t.Errorf("%s: %.1f allocations per request, %.1f without those headers", tc.name, got, base)
		}
	}
}
