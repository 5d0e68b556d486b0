package proxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luahost/luahost/router"
)

// clientCert makes a self-signed client certificate.
func clientCert(t *testing.T) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestHTTPSUpstream(t *testing.T) {
	type seen struct {
		sni        string
		clientCert bool
	}
	var mu sync.Mutex
	var last seen
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		last = seen{r.TLS.ServerName, len(r.TLS.PeerCertificates) > 0}
		mu.Unlock()
		fmt.Fprintf(w, "tls %s %s", r.Host, r.URL.Path)
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})

	on, depth0 := true, 0
	mk := func(id string, verify bool, ca []string, cert string) *router.Service {
		s := svc(id, port)
		s.Protocol = "https"
		if verify {
			s.TLSVerify = &on
		}
		s.CACertificates, s.ClientCertID = ca, cert
		return s
	}
	withCA := mk("ca", true, []string{"ca1"}, "")
	withCA.TLSVerifyDepth = &depth0
	cc := clientCert(t)
	var logMu sync.Mutex
	var logged []string
	tp := startProxy(t, Config{
		CACertificate: func(id string) ([]byte, error) {
			if id == "ca1" {
				return caPEM, nil
			}
			return nil, errors.New("not found")
		},
		ClientCertificate: func(id string) (*tls.Certificate, error) {
			if id == "c1" {
				return cc, nil
			}
			return nil, errors.New("not found")
		},
		Logger: logFunc(func(msg string, args ...any) {
			logMu.Lock()
			logged = append(logged, fmt.Sprint(msg, args))
			logMu.Unlock()
		}),
	}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/noverify"}, PreserveHost: true, ServiceID: "noverify"},
		{ID: "00000000-0000-0000-0000-000000000002", Paths: []string{"/verify-system"}, PreserveHost: true, ServiceID: "system"},
		{ID: "00000000-0000-0000-0000-000000000003", Paths: []string{"/verify-ca"}, PreserveHost: true, ServiceID: "ca"},
		{ID: "00000000-0000-0000-0000-000000000004", Paths: []string{"/cert"}, ServiceID: "cert"},
		{ID: "00000000-0000-0000-0000-000000000005", Paths: []string{"/ca-noverify"}, PreserveHost: true, ServiceID: "canoverify"},
	}, mk("noverify", false, nil, ""), mk("system", true, nil, ""), withCA, mk("cert", false, nil, "c1"),
		mk("canoverify", false, []string{"missing"}, ""))

	for _, c := range []struct {
		path, host string
		status     int
		want       seen
	}{
		// No verification by default (Kong's proxy_ssl_verify off); SNI is
		// the Host sent upstream, without its port.
		{"/noverify", "example.com:8000", 200, seen{sni: "example.com"}},
		{"/noverify", "anything.test", 200, seen{sni: "anything.test"}},
		// ca_certificates without tls_verify: still not verified.
		{"/ca-noverify", "anything.test", 200, seen{sni: "anything.test"}},
		// tls_verify against the system's roots: the test CA is unknown.
		{"/verify-system", "example.com", 502, seen{}},
		// tls_verify against the Service's ca_certificates: the name must
		// match too.
		{"/verify-ca", "example.com", 200, seen{sni: "example.com"}},
		{"/verify-ca", "wrong.test", 502, seen{}},
		// client_certificate presented; no SNI for an IP address.
		{"/cert", "", 200, seen{clientCert: true}},
	} {
		mu.Lock()
		last = seen{}
		mu.Unlock()
		hdr := map[string]string{}
		if c.host != "" {
			hdr["Host"] = c.host
		}
		res, body := do(t, "GET", "http://"+tp.addr+c.path, hdr, "")
		mu.Lock()
		got := last
		mu.Unlock()
		if res.StatusCode != c.status || got != c.want {
			t.Errorf("%s Host %s: %d %q, upstream saw %+v, want %d %+v", c.path, c.host, res.StatusCode, body, got, c.status, c.want)
		}
		if c.status == 200 && !strings.HasPrefix(body, "tls ") {
			t.Errorf("%s: %q", c.path, body)
		}
	}
	logMu.Lock()
	defer logMu.Unlock()
	if !strings.Contains(strings.Join(logged, "\n"), "certificate signed by unknown authority") {
		t.Errorf("no log of the verification failure: %q", logged)
	}
}

type logFunc func(msg string, args ...any)

func (f logFunc) Error(msg string, args ...any) { f(msg, args...) }

// ws and wss upstreams (Kong Enterprise's) are not proxied: 502, and the
// reason logged.
func TestUnsupportedUpstreamProtocols(t *testing.T) {
	var mu sync.Mutex
	var logged []string
	var routes []router.Route
	var services []*router.Service
	protos := []string{"ws", "wss"}
	for i, proto := range protos {
		s := svc(proto, 1)
		s.Protocol = proto
		services = append(services, s)
		routes = append(routes, router.Route{ID: fmt.Sprintf("00000000-0000-0000-0000-00000000000%d", i+1),
			Paths: []string{"/" + proto}, Protocols: []string{"http", "https"}, ServiceID: proto})
	}
	tp := startProxy(t, Config{Logger: logFunc(func(msg string, args ...any) {
		mu.Lock()
		logged = append(logged, fmt.Sprint(msg, args))
		mu.Unlock()
	})}, routes, services...)
	for _, proto := range protos {
		res, body := do(t, "GET", "http://"+tp.addr+"/"+proto, nil, "")
		if res.StatusCode != 502 || !strings.HasPrefix(body, "An invalid response was received from the upstream server") {
			t.Errorf("%s: %d %q", proto, res.StatusCode, body)
		}
		mu.Lock()
		l := strings.Join(logged, "\n")
		mu.Unlock()
		if !strings.Contains(l, "upstream protocol "+proto+" is not supported") {
			t.Errorf("%s: not logged: %q", proto, l)
		}
	}
}
