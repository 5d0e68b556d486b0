package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/luahost/luahost/kongdb/kongdbtest"
	"github.com/luahost/luahost/router"
)

// $ssl_client_verify as OpenSSL leaves it at depth 0 with the CA list of
// request_client_certificate (Kong's 01-request_client_certificate.t:
// no CA list "unable to get local issuer certificate", an intermediate in
// the list "unable to get issuer certificate").
func TestClientVerify(t *testing.T) {
	root := kongdbtest.Issue(t, "Root CA", true, nil, nil)
	inter := kongdbtest.Issue(t, "Intermediate CA", true, root, nil)
	byInter := kongdbtest.Issue(t, "by-intermediate", false, inter, nil)
	byRoot := kongdbtest.Issue(t, "by-root", false, root, nil)
	self := kongdbtest.Issue(t, "self", false, nil, nil)
	expired := kongdbtest.Issue(t, "expired", false, root, func(c *x509.Certificate) {
		c.NotBefore, c.NotAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
	})
	early := kongdbtest.Issue(t, "early", false, root, func(c *x509.Certificate) {
		c.NotBefore, c.NotAfter = time.Now().Add(24*time.Hour), time.Now().Add(48*time.Hour)
	})
	serverOnly := kongdbtest.Issue(t, "server-only", false, root, func(c *x509.Certificate) {
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	})
	notCA := kongdbtest.Issue(t, "not-a-ca", false, root, nil)
	byNotCA := kongdbtest.Issue(t, "by-not-a-ca", false, notCA, nil)
	certs := func(is ...*kongdbtest.Issued) []*x509.Certificate {
		var out []*x509.Certificate
		for _, i := range is {
			out = append(out, i.Cert)
		}
		return out
	}
	for _, c := range []struct {
		name      string
		sent, cas []*x509.Certificate
		want      string
	}{
		{"nothing sent", nil, certs(root), "NONE"},
		{"issued by a root of the list", certs(byRoot), certs(root), "SUCCESS"},
		{"no list", certs(byInter), nil, "FAILED:unable to get local issuer certificate"},
		{"no list, chain sent", certs(byInter, inter), nil, "FAILED:unable to get local issuer certificate"},
		{"intermediate in the list", certs(byInter), certs(inter), "FAILED:unable to get issuer certificate"},
		{"intermediate and root (depth 0)", certs(byInter, inter), certs(inter, root), "FAILED:unable to get issuer certificate"},
		{"root only, intermediate sent (depth 0)", certs(byInter, inter), certs(root), "FAILED:unable to get local issuer certificate"},
		{"self-signed", certs(self), certs(root), "FAILED:self-signed certificate"},
		{"self-signed in the list", certs(self), certs(root, self), "SUCCESS"},
		{"expired", certs(expired), certs(root), "FAILED:certificate has expired"},
		{"not yet valid", certs(early), certs(root), "FAILED:certificate is not yet valid"},
		{"server auth only", certs(serverOnly), certs(root), "FAILED:unsupported certificate purpose"},
		{"issuer not a CA", certs(byNotCA), certs(notCA), "FAILED:invalid CA certificate"},
	} {
		if got := clientVerify(c.sent, c.cas, time.Now()); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// The certificate phase runs in each handshake of an ssl listener, once
// the certificate is chosen: it may request a client certificate (with
// the CA names sent to the client), disable session reuse, or fail the
// handshake; the requests on the connection see what the client sent.
func TestCertificatePhase(t *testing.T) {
	root := kongdbtest.Issue(t, "Root CA", true, nil, nil)
	inter := kongdbtest.Issue(t, "Intermediate CA", true, root, nil)
	leaf := kongdbtest.Issue(t, "client", false, inter, nil)
	def, err := SelfSignedCertificate()
	if err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	mode := ""
	var phases []string // the SNIs the phase ran for
	setMode := func(m string) {
		mu.Lock()
		mode = m
		mu.Unlock()
	}
	cfg := Config{
		GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
			if h.ServerName == "bad.test" {
				return nil, errors.New("no certificate")
			}
			return def, nil
		},
		Certificate: func(h *Handshake) error {
			mu.Lock()
			m := mode
			phases = append(phases, h.Hello.ServerName)
			mu.Unlock()
			switch m {
			case "fail":
				return errors.New("a plugin failed")
			case "request":
				h.RequestClientCertificate([]*x509.Certificate{inter.Cert, root.Cert})
			case "request-nocas":
				h.RequestClientCertificate(nil)
			case "noreuse":
				h.DisableSessionReuse()
			}
			return nil
		},
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "up") }))
	defer up.Close()
	tp := startProxy(t, cfg, []router.Route{{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s"}},
		svc("s", up.Listener.Addr().(*net.TCPAddr).Port))
	tp.p.Phases = &hooks{header: func(c *Context) {
		certs, err := c.ClientCertificates()
		v, _ := c.ClientVerify()
		cs, _ := c.TLSState()
		var cns []string
		for _, x := range certs {
			cns = append(cns, x.Subject.CommonName)
		}
		c.RequestCtx.Response.Header.Set("X-Seen", fmt.Sprintf("certs=%s err=%v verify=%s resumed=%v",
			strings.Join(cns, ","), err, v, cs.DidResume))
	}}

	// get makes one request on a new connection; asked reports the CA
	// names of the server's certificate request (nil: none was made).
	get := func(sni string, send *tls.Certificate, cache tls.ClientSessionCache) (seen string, asked [][]byte, err error) {
		t.Helper()
		asked = nil
		conf := &tls.Config{ServerName: sni, InsecureSkipVerify: true, ClientSessionCache: cache,
			GetClientCertificate: func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
				asked = append([][]byte{}, cri.AcceptableCAs...)
				if asked == nil {
					asked = [][]byte{}
				}
				if send == nil {
					return &tls.Certificate{}, nil
				}
				return send, nil
			}}
		tr := &http.Transport{TLSClientConfig: conf, DisableKeepAlives: true}
		defer tr.CloseIdleConnections()
		res, err := (&http.Client{Transport: tr, Timeout: 20 * time.Second}).Get("https://" + tp.tlsAddr + "/")
		if err != nil {
			return "", asked, err
		}
		defer res.Body.Close()
		io.Copy(io.Discard, res.Body)
		return res.Header.Get("X-Seen"), asked, nil
	}
	chain := leaf.TLS(inter)

	// no request: the client is not asked for its certificate
	seen, asked, err := get("a.test", &chain, nil)
	if err != nil || asked != nil || seen != "certs= err=<nil> verify=NONE resumed=false" {
		t.Errorf("no request: %q asked %v %v", seen, asked, err)
	}
	// requested with a CA list: its subjects are sent, the chain is seen
	setMode("request")
	seen, asked, err = get("a.test", &chain, nil)
	if err != nil || seen != "certs=client,Intermediate CA err=<nil> verify=FAILED:unable to get issuer certificate resumed=false" {
		t.Errorf("requested: %q %v", seen, err)
	}
	if want := [][]byte{inter.Cert.RawSubject, root.Cert.RawSubject}; !slices.EqualFunc(asked, want, func(a, b []byte) bool {
		return string(a) == string(b)
	}) {
		t.Errorf("CA names sent: %q", asked)
	}
	// requested, not required: a client without a certificate goes on
	seen, asked, err = get("a.test", nil, nil)
	if err != nil || asked == nil || seen != "certs= err=<nil> verify=NONE resumed=false" {
		t.Errorf("requested, none sent: %q asked %v %v", seen, asked, err)
	}
	// without a CA list no names are sent
	setMode("request-nocas")
	seen, asked, err = get("a.test", &chain, nil)
	if err != nil || asked == nil || len(asked) != 0 ||
		seen != "certs=client,Intermediate CA err=<nil> verify=FAILED:unable to get local issuer certificate resumed=false" {
		t.Errorf("requested without CAs: %q asked %v %v", seen, asked, err)
	}
	// an error fails the handshake
	setMode("fail")
	if seen, _, err := get("a.test", nil, nil); err == nil {
		t.Errorf("failing phase: the request went through: %q", seen)
	}
	// a certificate that cannot be had fails the handshake before the phase
	setMode("")
	mu.Lock()
	phases = nil
	mu.Unlock()
	if _, _, err := get("bad.test", nil, nil); err == nil {
		t.Error("handshake without a certificate succeeded")
	}
	mu.Lock()
	if len(phases) != 0 {
		t.Errorf("the phase ran for %q", phases)
	}
	mu.Unlock()

	// sessions are resumed unless the phase disabled their reuse
	for _, c := range []struct {
		mode    string
		resumed bool
	}{{"", true}, {"noreuse", false}} {
		setMode(c.mode)
		cache := tls.NewLRUClientSessionCache(4)
		if _, _, err := get("a.test", nil, cache); err != nil {
			t.Fatal(err)
		}
		seen, _, err := get("a.test", nil, cache)
		if want := fmt.Sprintf("resumed=%v", c.resumed); err != nil || !strings.HasSuffix(seen, want) {
			t.Errorf("mode %q: second connection %q %v, want %s", c.mode, seen, err, want)
		}
	}
	// a plain connection has no client certificates
	res, err := client.Get("http://" + tp.addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("X-Seen"); got != "certs= err=connection is not TLS verify= resumed=false" {
		t.Errorf("plain: %q", got)
	}
}

// A connection whose TLS handshake failed read no request: fasthttp's
// error handler answers nothing and runs no phase (no log entry for a
// refused handshake, as nginx), where a malformed request on an
// established connection gets its 400 and its phases.
func TestFailedHandshakeRunsNoPhase(t *testing.T) {
	var filtered int
	p := New(&router.Versioned{}, Config{KongVersion: "3.9.1"})
	p.Phases = &hooks{header: func(*Context) { filtered++ }}
	srv, cli := net.Pipe()
	defer cli.Close()
	tc := tls.Server(srv, &tls.Config{})
	lc := &logConn{Conn: tc}
	var rc fasthttp.RequestCtx
	rc.Init2(&tlsLogConn{logConn: lc, tc: tc}, nil, false)
	p.ErrorHandler(&rc, errors.New("remote error: tls: handshake failure"))
	if filtered != 0 || rc.Response.StatusCode() == 400 || lc.pending.Load() != nil {
		t.Errorf("failed handshake: header_filter ran %d times, status %d", filtered, rc.Response.StatusCode())
	}

	plain := &logConn{Conn: srv}
	rc.Init2(plain, nil, false)
	p.ErrorHandler(&rc, errors.New("cannot parse request"))
	if filtered != 1 || rc.Response.StatusCode() != 400 {
		t.Errorf("malformed request: header_filter ran %d times, status %d", filtered, rc.Response.StatusCode())
	}
	if c := plain.pending.Swap(nil); c != nil {
		p.log(c)
	}
}
