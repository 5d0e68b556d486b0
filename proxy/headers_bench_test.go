package proxy

import (
	"bufio"
	"net"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/luahost/luahost/internal/proccpu"
	"github.com/luahost/luahost/router"
)

// BenchmarkServeHeaders is one request handed to the proxy's handler in
// memory (the upstream an in-memory listener), with the headers Kong
// sets or removes absent, under Kong's spelling, in mixed case, and in
// mixed case with Cookie headers (the names then read from the header's
// serialisation): what finding them costs. cpu-ns/op is the process's CPU
// time per request.
func BenchmarkServeHeaders(b *testing.B) {
	up := fasthttputil.NewInmemoryListener()
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("ok") }}
	go srv.Serve(up) //nolint:errcheck
	b.Cleanup(func() { srv.Shutdown() })
	s := &router.Service{ID: "s1", Protocol: "http", Host: "127.0.0.1", Port: 8080, ConnectTimeout: 2000, ReadTimeout: 2000,
		WriteTimeout: 2000}
	rt := &router.Versioned{}
	if _, err := rt.Rebuild([]router.Route{{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/r"}, ServiceID: "s1"}},
		map[string]*router.Service{"s1": s}); err != nil {
		b.Fatal(err)
	}
	p := New(rt, Config{KongVersion: "3.9.1", Dial: func(string) (net.Conn, error) { return up.Dial() }})
	const common = "Host: example.com\r\nUser-Agent: bench\r\nAccept: */*\r\nAccept-Encoding: gzip\r\nX-Api-Token: t\r\n"
	for _, tc := range []struct{ name, headers string }{
		{"plain", common},
		{"canonical", common + "Connection: keep-alive\r\nX-Forwarded-For: 1.2.3.4\r\nVia: 1.1 lb\r\nX-Forwarded-Proto: https\r\n"},
		{"lower", common + "connection: keep-alive\r\nx-forwarded-for: 1.2.3.4\r\nvia: 1.1 lb\r\nx-forwarded-proto: https\r\n"},
		{"lower-cookie", common + "connection: keep-alive\r\nx-forwarded-for: 1.2.3.4\r\nvia: 1.1 lb\r\nx-forwarded-proto: https\r\n" +
			"cookie: session=abcdef; theme=dark\r\n"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var req fasthttp.Request
			req.Header.DisableNormalizing() // as the proxy's server reads it
			if err := req.Read(bufio.NewReader(strings.NewReader("GET /r/x HTTP/1.1\r\n" + tc.headers + "\r\n"))); err != nil {
				b.Fatal(err)
			}
			var rc fasthttp.RequestCtx
			addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5555}
			do := func() {
				rc.Init(&req, addr, nil)
				p.ServeHTTP(&rc)
				if rc.Response.StatusCode() != 200 {
					b.Fatalf("%d %s", rc.Response.StatusCode(), rc.Response.Body())
				}
			}
			do()
			b.ReportAllocs()
			b.ResetTimer()
			t0 := proccpu.Now()
			for i := 0; i < b.N; i++ {
				do()
			}
			b.ReportMetric(float64(proccpu.Now()-t0)/float64(b.N), "cpu-ns/op")
		})
	}
}
