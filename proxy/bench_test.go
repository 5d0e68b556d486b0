package proxy

import (
	"context"
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/luahost/luahost/balancer"
	"github.com/luahost/luahost/router"
)

// BenchmarkProxy is one request through the proxy (route "/" to a
// fasthttp upstream), over loopback sockets, client included; compare
// with BenchmarkBareForward in the same run.
func BenchmarkProxy(b *testing.B) { benchProxy(b, nil) }

// BenchmarkProxyNopPhases is BenchmarkProxy with a Phases that does
// nothing: what the proxy's own plugin path costs (the response streamed
// through BodyFilter, Log after the write), without any plugin.
func BenchmarkProxyNopPhases(b *testing.B) { benchProxy(b, NopPhases{}) }

// BenchmarkProxyTLS is BenchmarkProxy over the ssl listener (kept-alive
// TLS 1.3 connections: the handshakes are not in the figure).
func BenchmarkProxyTLS(b *testing.B) {
	benchProxyTo(b, nil, "127.0.0.1", benchUpstream(b), nil, true)
}

// BenchmarkProxyBalanced is BenchmarkProxy with the Service's host an
// upstream of two round-robin targets: what the ring-balancer adds.
func BenchmarkProxyBalanced(b *testing.B) {
	reg := &balancer.Registry{}
	defer reg.Close()
	up := map[string]any{"id": "u", "name": "bench-upstream", "algorithm": "round-robin"}
	var targets []map[string]any
	for i := 0; i < 2; i++ {
		targets = append(targets, map[string]any{"id": itoa(i), "target": "127.0.0.1:" + itoa(benchUpstream(b)),
			"weight": float64(100), "upstream": map[string]any{"id": "u"}})
	}
	reg.Rebuild(context.Background(), []map[string]any{up}, targets)
	benchProxyTo(b, nil, "bench-upstream", 80, reg, false)
}

func benchProxy(b *testing.B, ph Phases) {
	benchProxyTo(b, ph, "127.0.0.1", benchUpstream(b), nil, false)
}

func benchProxyTo(b *testing.B, ph Phases, host string, port int, bal Balancers, ssl bool) {
	rt := &router.Versioned{}
	if _, err := rt.Rebuild([]router.Route{{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s"}},
		map[string]*router.Service{"s": {ID: "s", Protocol: "http", Host: host, Port: port, Retries: 5}}); err != nil {
		b.Fatal(err)
	}
	def, err := SelfSignedCertificate()
	if err != nil {
		b.Fatal(err)
	}
	cfg := Config{KongVersion: "3.9.1", GetCertificate: NewCertificates(def, nil).GetCertificate}
	if bal != nil {
		cfg.Balancer = bal
	}
	p := New(rt, cfg)
	p.Phases = ph
	entry := "127.0.0.1:0"
	if ssl {
		entry += " ssl"
	}
	ls, _ := ParseListen("proxy_listen", entry)
	s, err := p.Listen(ls)
	if err != nil {
		b.Fatal(err)
	}
	go s.Serve()
	defer s.Shutdown(context.Background())
	benchClient(b, s.Addrs[0].String(), ssl)
}

// BenchmarkBareForward is the bare fasthttp forwarder the proxy is
// measured against.
func BenchmarkBareForward(b *testing.B) {
	up := benchUpstream(b)
	c := &fasthttp.HostClient{Addr: net.JoinHostPort("127.0.0.1", itoa(up)), MaxConns: 4096}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.Request.Header.Del("Connection")
		if err := c.Do(&ctx.Request, &ctx.Response); err != nil {
			ctx.SetStatusCode(502)
		}
	}}
	go srv.Serve(ln)
	defer srv.Shutdown()
	benchClient(b, ln.Addr().String(), false)
}

func itoa(n int) string { return fmtInt(n) }

func fmtInt(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(b[i:])
}

func benchUpstream(b *testing.B) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) { ctx.SetBodyString("ok\n") }}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Shutdown() })
	return ln.Addr().(*net.TCPAddr).Port
}

func benchClient(b *testing.B, addr string, ssl bool) {
	c := &fasthttp.HostClient{Addr: addr, MaxConns: 64, ReadTimeout: 10 * time.Second, IsTLS: ssl,
		TLSConfig: &tls.Config{InsecureSkipVerify: true}}
	scheme := "http://"
	if ssl {
		scheme = "https://"
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		for pb.Next() {
			req.SetRequestURI(scheme + addr + "/anything?x=1")
			if err := c.Do(req, resp); err != nil || resp.StatusCode() != 200 {
				b.Fatalf("%v %d", err, resp.StatusCode())
			}
		}
	})
}
