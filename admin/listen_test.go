package admin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/luahost/luahost/kongdb/kongdbtest"
	"github.com/luahost/luahost/proxy"
)

// h2Client speaks HTTP/2 only: ALPN h2 over TLS (trusting roots), prior
// knowledge in cleartext.
func h2Client(roots *x509.CertPool) *http.Client {
	var ps http.Protocols
	ps.SetHTTP2(true)
	ps.SetUnencryptedHTTP2(true)
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Protocols: &ps,
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "admin.test"}}}
}

// The Admin API on "http2 ssl" and "http2" entries: the same endpoints over
// HTTP/2 (TLS with Options.TLS's certificate, and prior knowledge), bodies
// read and bounded as over HTTP/1.x (413 beyond MaxBodySize, known length
// or not), every request logged; Shutdown stops the HTTP/2 side too: a
// connection kept alive does not serve on.
func TestListenHTTP2AndTLS(t *testing.T) {
	c := testConf()
	c.Set("database", "off", "test")
	hst := newHost(t, c)
	cert := kongdbtest.Issue(t, "admin.test", false, nil, func(x *x509.Certificate) { x.DNSNames = []string{"admin.test"} })
	roots := x509.NewCertPool()
	roots.AddCert(cert.Cert)
	conf := proxy.ServerTLSConfig(nil)
	conf.Certificates = []tls.Certificate{cert.TLS()}
	var logged atomic.Int64
	s, err := New(Options{Host: hst, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), TLS: conf, MaxBodySize: 1000,
		Log: func(*fasthttp.RequestCtx) { logged.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	ls, _ := proxy.ParseListen("admin_listen", "127.0.0.1:0 http2 ssl, 127.0.0.1:0 http2")
	if err := s.Listen(ls); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	stopped := false
	defer func() {
		if !stopped {
			s.Shutdown(context.Background())
			<-done
		}
	}()
	client := h2Client(roots)
	bases := []string{"https://" + s.Addrs[0].String(), "http://" + s.Addrs[1].String()}
	send := func(method, url, ctype string, body io.Reader) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, url, body)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		var m map[string]any
		json.Unmarshal(raw, &m)
		if res.Proto != "HTTP/2.0" {
			t.Errorf("%s %s: %s", method, url, res.Proto)
		}
		return res.StatusCode, m
	}
	requests := int64(0)
	for i, base := range bases {
		name := []string{"over-tls", "prior-knowledge"}[i]
		form := url.Values{"name": {name}, "url": {"http://example.test"}}.Encode()
		if code, m := send("POST", base+"/services", "application/x-www-form-urlencoded", strings.NewReader(form)); code != 201 || m["name"] != name {
			t.Errorf("%s: POST /services: %d %v", base, code, m)
		}
		// a body of unknown length (no content-length: a stream)
		body := struct{ io.Reader }{strings.NewReader(`{"name":"` + name + `-json","url":"http://example.test"}`)}
		if code, m := send("POST", base+"/services", "application/json", body); code != 201 || m["name"] != name+"-json" {
			t.Errorf("%s: POST /services (JSON, streamed): %d %v", base, code, m)
		}
		big := strings.Repeat("x", 1001)
		if code, m := send("POST", base+"/services", "text/plain", strings.NewReader(big)); code != 413 || m["message"] != "Request Entity Too Large" {
			t.Errorf("%s: large body: %d %v", base, code, m)
		}
		if code, m := send("POST", base+"/services", "text/plain", struct{ io.Reader }{strings.NewReader(big)}); code != 413 || m["message"] != "Request Entity Too Large" {
			t.Errorf("%s: large streamed body: %d %v", base, code, m)
		}
		requests += 4
	}
	if code, m := send("GET", bases[0]+"/services", "", nil); code != 200 || len(data(m)) != 4 {
		t.Errorf("GET /services: %d %v", code, m)
	}
	requests++
	if n := logged.Load(); n != requests {
		t.Errorf("%d requests logged, want %d", n, requests)
	}

	// a kept-alive HTTP/2 connection stops serving with Shutdown, and
	// Serve returns
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	stopped = true
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return after Shutdown")
	}
	for _, base := range bases {
		if res, err := client.Get(base + "/status"); err == nil {
			res.Body.Close()
			t.Errorf("%s answers after Shutdown: %d", base, res.StatusCode)
		}
	}
}

// An ssl entry needs Options.TLS; Listen then binds nothing.
func TestListenSSLNeedsTLS(t *testing.T) {
	c := testConf()
	c.Set("database", "off", "test")
	s, err := New(Options{Host: newHost(t, c), NoLua: true})
	if err != nil {
		t.Fatal(err)
	}
	ls, _ := proxy.ParseListen("admin_listen", "127.0.0.1:0, 127.0.0.1:0 ssl")
	if err := s.Listen(ls); err == nil || !strings.Contains(err.Error(), "ssl: no certificates configured") {
		t.Fatalf("Listen: %v", err)
	}
	if len(s.Addrs) != 0 || len(s.lns) != 0 {
		t.Errorf("bound after an error: %v", s.Addrs)
	}
}
