package proxy

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luahost/luahost/kongdb/kongdbtest"
	"github.com/luahost/luahost/router"
)

// certRows is a mutable set of snis rows for a Certificates' Load.
type certRows struct {
	mu   sync.Mutex
	rows []SNICert
}

func (c *certRows) set(rows ...SNICert) {
	c.mu.Lock()
	c.rows = rows
	c.mu.Unlock()
}

func (c *certRows) load(context.Context) ([]SNICert, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]SNICert(nil), c.rows...), nil
}

// sniCert makes a snis row for name with a new certificate whose CN is cn.
func sniCert(t *testing.T, name, cn string) SNICert {
	cert, key := kongdbtest.Cert(t, cn, false, time.Now().Add(time.Hour))
	return SNICert{Name: name, CertificateID: "cert-" + cn, Cert: cert, Key: key}
}

// servedCN is the CN of the certificate the TLS listener at addr presents
// for serverName ("" sends no SNI).
func servedCN(t *testing.T, addr, serverName string) (string, error) {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{ServerName: serverName, InsecureSkipVerify: true})
	if err != nil {
		return "", err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].Subject.CommonName, nil
}

func newTestCertificates(t *testing.T, rows *certRows) *Certificates {
	def, err := SelfSignedCertificate()
	if err != nil {
		t.Fatal(err)
	}
	c := NewCertificates(def, rows.load)
	c.Debounce = time.Millisecond
	if err := c.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}

// The certificate follows the SNI as Kong's certificate.lua picks it.
func TestTLSCertificateBySNI(t *testing.T) {
	rows := &certRows{}
	rows.set(sniCert(t, "example.com", "exact"), sniCert(t, "*.wild.test", "prefix-wild"),
		sniCert(t, "suffix.*", "suffix-wild"), sniCert(t, "a.b.*", "suffix-3"), sniCert(t, "*.b.c", "prefix-3"))
	certs := newTestCertificates(t, rows)
	tp := startProxy(t, Config{GetCertificate: certs.GetCertificate}, nil)
	for sni, want := range map[string]string{
		"example.com":     "exact",
		"EXAMPLE.COM":     "exact",
		"x.wild.test":     "prefix-wild",
		"x.y.wild.test":   "localhost", // "*.y.wild.test" and "x.y.wild.*" are not there
		"wild.test":       "localhost", // two labels: no "*.test" lookup; "wild.*" not there
		"suffix.org":      "suffix-wild",
		"a.b.c":           "prefix-3", // "*.b.c" before "a.b.*"
		"a.b.d":           "suffix-3",
		"other.test":      "localhost",
		"":                "localhost", // no SNI: the default
		"sub.example.com": "localhost",
	} {
		got, err := servedCN(t, tp.tlsAddr, sni)
		if err != nil || got != want {
			t.Errorf("SNI %q: certificate %q %v, want %q", sni, got, err, want)
		}
	}
	// the "*" sni takes what nothing else matches; no SNI still gets the
	// default
	rows.set(sniCert(t, "example.com", "exact"), sniCert(t, "*", "catch-all"))
	if err := certs.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	for sni, want := range map[string]string{"example.com": "exact", "other.test": "catch-all", "": "localhost"} {
		if got, err := servedCN(t, tp.tlsAddr, sni); err != nil || got != want {
			t.Errorf("with *: SNI %q: %q %v, want %q", sni, got, err, want)
		}
	}
	// a certificate that does not parse fails its handshakes only
	bad := sniCert(t, "bad.test", "bad")
	bad.Key = "not a key"
	rows.set(bad)
	var reloadErr error
	certs.OnReload = func(_ int, err error) { reloadErr = err }
	if err := certs.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if reloadErr == nil || !strings.Contains(reloadErr.Error(), "bad.test: could not parse PEM certificate") {
		t.Errorf("reload error %v", reloadErr)
	}
	if _, err := servedCN(t, tp.tlsAddr, "bad.test"); err == nil {
		t.Error("handshake with a broken certificate succeeded")
	}
	if got, err := servedCN(t, tp.tlsAddr, "good.test"); err != nil || got != "localhost" {
		t.Errorf("after a broken certificate: %q %v", got, err)
	}
}

// A certificate changed at run time (a CRUD event triggers the reload) is
// the one new handshakes get.
func TestTLSCertificateFollowsChanges(t *testing.T) {
	rows := &certRows{}
	rows.set(sniCert(t, "example.com", "first"))
	certs := newTestCertificates(t, rows)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go certs.Run(ctx)
	tp := startProxy(t, Config{GetCertificate: certs.GetCertificate}, nil)
	if got, err := servedCN(t, tp.tlsAddr, "example.com"); err != nil || got != "first" {
		t.Fatalf("before: %q %v", got, err)
	}
	rows.set(sniCert(t, "example.com", "second"))
	certs.Trigger()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := servedCN(t, tp.tlsAddr, "example.com")
		if err != nil {
			t.Fatal(err)
		}
		if got == "second" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %q after the change", got)
		}
		<-time.After(time.Millisecond) // poll, bounded by the deadline
	}
}

// Routes over TLS: an https-only Route answers 426 over plain HTTP and is
// proxied over TLS; SNIs match only over TLS; the upstream is told
// X-Forwarded-Proto https.
func TestTLSRouting(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s", r.URL.Path, r.Header.Get("X-Forwarded-Proto"))
	}))
	defer up.Close()
	port := up.Listener.Addr().(*net.TCPAddr).Port
	rows := &certRows{}
	rows.set(sniCert(t, "example.com", "exact"))
	certs := newTestCertificates(t, rows)
	tp := startProxy(t, Config{GetCertificate: certs.GetCertificate}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/secure"}, Protocols: []string{"https"}, ServiceID: "s"},
		{ID: "00000000-0000-0000-0000-000000000002", Paths: []string{"/any"}, ServiceID: "s"},
		{ID: "00000000-0000-0000-0000-000000000003", Paths: []string{"/sni"}, Protocols: []string{"https"}, SNIs: []string{"example.com"}, ServiceID: "s"},
		{ID: "00000000-0000-0000-0000-000000000004", Paths: []string{"/plain"}, Protocols: []string{"http"}, ServiceID: "s"},
	}, svc("s", port))
	get := func(base, sni, path string) (int, string) {
		t.Helper()
		tr := &http.Transport{TLSClientConfig: &tls.Config{ServerName: sni, InsecureSkipVerify: true}}
		defer tr.CloseIdleConnections()
		res, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	plain, secure := "http://"+tp.addr, "https://"+tp.tlsAddr
	for _, c := range []struct {
		base, sni, path string
		status          int
		body            string
	}{
		{plain, "", "/secure", 426, `"message":"Please use HTTPS protocol"`},
		{secure, "", "/secure", 200, "/secure https"},
		{secure, "other.test", "/secure", 200, "/secure https"},
		{plain, "", "/any", 200, "/any http"},
		{secure, "", "/any", 200, "/any https"},
		// SNIs count over TLS only, and must match there
		{secure, "example.com", "/sni", 200, "/sni https"},
		{secure, "other.test", "/sni", 404, `"message":"no Route matched with those values"`},
		{secure, "", "/sni", 404, `"message":"no Route matched with those values"`},
		{plain, "", "/sni", 426, `"message":"Please use HTTPS protocol"`},
		// protocols do not keep an http Route from TLS requests (Kong's
		// router matches on them only for the https redirect)
		{secure, "", "/plain", 200, "/plain https"},
	} {
		status, body := get(c.base, c.sni, c.path)
		if status != c.status || !strings.Contains(body, c.body) {
			t.Errorf("%s%s (SNI %q): %d %q, want %d %q", c.base, c.path, c.sni, status, body, c.status, c.body)
		}
	}
}

// Garbage where a ClientHello should be, or a handshake the server
// refuses, closes that connection only.
func TestTLSBadClientHello(t *testing.T) {
	tp := startProxy(t, Config{}, []router.Route{{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}}})
	for _, junk := range []string{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "\x16\x03\x01\x00\x05hello", "\x00\x00\x00"} {
		conn, err := net.DialTimeout("tcp", tp.tlsAddr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		conn.Write([]byte(junk))
		conn.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, conn) // until the server closes it
		conn.Close()
	}
	// TLS 1.1 is below Kong's ssl_protocols
	if _, err := tls.Dial("tcp", tp.tlsAddr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}); err == nil {
		t.Error("TLS 1.1 accepted")
	}
	if got, err := servedCN(t, tp.tlsAddr, "x.test"); err != nil || got != "localhost" {
		t.Fatalf("listener after bad hellos: %q %v", got, err)
	}
	// ALPN: the "http2 ssl" entry offers h2; an "ssl" one http/1.1 only
	ls, err := ParseListen("proxy_listen", "127.0.0.1:0 ssl")
	if err != nil {
		t.Fatal(err)
	}
	s, err := tp.p.Listen(ls)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	defer s.Shutdown(context.Background())
	for addr, want := range map[string]string{tp.tlsAddr: "h2", s.Addrs[0].String(): "http/1.1"} {
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		if p := conn.ConnectionState().NegotiatedProtocol; p != want {
			t.Errorf("%s: ALPN %q, want %q", addr, p, want)
		}
		conn.Close()
	}
}

// Shutdown right after Serve returns, TLS listeners included.
func TestTLSShutdownRightAfterServe(t *testing.T) {
	def, err := SelfSignedCertificate()
	if err != nil {
		t.Fatal(err)
	}
	p := New(&router.Versioned{}, Config{GetCertificate: NewCertificates(def, nil).GetCertificate})
	ls, err := ParseListen("proxy_listen", "127.0.0.1:0 ssl, 127.0.0.1:0 ssl http2, 127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		s, err := p.Listen(ls)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- s.Serve() }()
		if err := s.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(time.Minute):
			t.Fatal("Serve did not return after Shutdown")
		}
	}
	// an ssl entry without certificates is refused
	if _, err := New(&router.Versioned{}, Config{}).Listen(ls); err == nil || !strings.Contains(err.Error(), "ssl: no certificates") {
		t.Errorf("ssl without certificates: %v", err)
	}
}

func TestWildSNIs(t *testing.T) {
	for sni, want := range map[string]string{
		"a.b.c": "*.b.c a.b.*", "b.c": " b.*", "c": " ", "*.b.c": " ", "a.b.": " ", "a..c": " a..*",
	} {
		p, s := wildSNIs(sni)
		if got := p + " " + s; got != want {
			t.Errorf("%q: %q, want %q", sni, got, want)
		}
	}
}
