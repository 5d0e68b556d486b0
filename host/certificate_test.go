package host

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/luahost/luahost/kongdb/kongdbtest"
	"github.com/luahost/luahost/proxy"
)

// The certificate phase runs the certificate handlers of the plugins
// configured globally, in each TLS handshake (kong/init.lua
// Kong.ssl_certificate, plugins_iterator.lua globals): mtls-echo requests
// the client's certificate there, with its CA list, and its access
// handler answers the chain the client presented. A configuration on a
// route does not run in the certificate phase (no request is known yet);
// its access handler still runs and finds no certificate. A Lua error in
// the phase fails the handshake and is logged naming plugin and phase.
func TestCertificatePhasePlugins(t *testing.T) {
	root := kongdbtest.Issue(t, "Root CA", true, nil, nil)
	inter := kongdbtest.Issue(t, "Intermediate CA", true, root, nil)
	leaf := kongdbtest.Issue(t, "client", false, inter, nil)
	def, err := proxy.SelfSignedCertificate()
	if err != nil {
		t.Fatal(err)
	}
	c := testConf(t, "testdata/tls")
	c.Set("lua_timeout", "20000", "test")
	n := newRLNodeWith(t, c, proxy.Config{GetCertificate: proxy.NewCertificates(def, nil).GetCertificate})
	route, _ := n.route(t, "/m")
	global := n.plugin(t, "mtls-echo", nil, map[string]any{"ca_pems": []any{inter.PEM, root.PEM}})
	n.sync(t)

	// get makes a request on a new TLS connection, presenting send when
	// asked; asked: the server asked for a certificate (its CA names).
	get := func(send *tls.Certificate) (h http.Header, asked []string, err error) {
		t.Helper()
		conf := &tls.Config{InsecureSkipVerify: true,
			GetClientCertificate: func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
				asked = []string{}
				for _, ca := range cri.AcceptableCAs {
					asked = append(asked, string(ca))
				}
				if send == nil {
					return &tls.Certificate{}, nil
				}
				return send, nil
			}}
		tr := &http.Transport{TLSClientConfig: conf, DisableKeepAlives: true}
		defer tr.CloseIdleConnections()
		res, err := (&http.Client{Transport: tr, Timeout: 20 * time.Second}).Get("https://" + n.tlsAddr + "/m")
		if err != nil {
			return nil, asked, err
		}
		defer res.Body.Close()
		io.Copy(io.Discard, res.Body)
		if res.StatusCode != 200 {
			t.Errorf("status %d", res.StatusCode)
		}
		return res.Header, asked, nil
	}
	chainOf := func(h http.Header) string {
		v := h.Get("X-Client-Chain")
		if v == "none" {
			return v
		}
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			t.Fatalf("X-Client-Chain %q: %v", v, err)
		}
		return string(b)
	}

	sent := leaf.TLS(inter)
	h, asked, err := get(&sent)
	if err != nil {
		t.Fatal(err)
	}
	if got := chainOf(h); got != leaf.PEM+inter.PEM {
		t.Errorf("chain\n%s\nwant the client's and the intermediate's", got)
	}
	if len(asked) != 2 || asked[0] != string(inter.Cert.RawSubject) || asked[1] != string(root.Cert.RawSubject) {
		t.Errorf("CA names sent: %q", asked)
	}
	if e, ctx := h.Get("X-Client-Chain-Err"), h.Get("X-Ctx-From-Certificate"); e != "none" || ctx != "nil" {
		t.Errorf("error %q, certificate phase's ngx.ctx seen by the request: %q", e, ctx)
	}

	// requested, none presented: nil, no error
	h, asked, err = get(nil)
	if err != nil || asked == nil {
		t.Fatalf("%v asked %v", err, asked)
	}
	if got, e := chainOf(h), h.Get("X-Client-Chain-Err"); got != "none" || e != "none" {
		t.Errorf("no certificate: chain %q error %q", got, e)
	}

	// ngx.exit(ngx.OK) ends the phase (the request stays made), another
	// status fails the handshake
	ctx := context.Background()
	plugins := n.h.Root.DB.DAO("plugins")
	for _, c := range []struct {
		status int
		ok     bool
	}{{0, true}, {-1, false}} {
		if _, err := plugins.Update(ctx, map[string]any{"id": global["id"]}, map[string]any{
			"config": map[string]any{"ca_pems": []any{root.PEM}, "exit": float64(c.status)}}, nil); err != nil {
			t.Fatal(err)
		}
		n.sync(t)
		h, asked, err := get(&sent)
		if c.ok && (err != nil || asked == nil || chainOf(h) != leaf.PEM+inter.PEM) {
			t.Errorf("ngx.exit(%d): asked %q, %v", c.status, asked, err)
		}
		if !c.ok && err == nil {
			t.Errorf("ngx.exit(%d): the handshake succeeded", c.status)
		}
	}

	// configured on the route only: no certificate phase
	if _, err := plugins.Delete(ctx, map[string]any{"id": global["id"]}, nil); err != nil {
		t.Fatal(err)
	}
	n.plugin(t, "mtls-echo", map[string]string{"route": route}, map[string]any{"ca_pems": []any{root.PEM}})
	n.sync(t)
	h, asked, err = get(&sent)
	if err != nil {
		t.Fatal(err)
	}
	if asked != nil || chainOf(h) != "none" {
		t.Errorf("route configuration: asked %q, chain %q", asked, chainOf(h))
	}

	// a Lua error fails the handshake, logged with plugin and phase
	n.plugin(t, "mtls-echo", nil, map[string]any{"fail": true})
	n.sync(t)
	if _, _, err := get(&sent); err == nil {
		t.Error("the handshake succeeded after the certificate handler failed")
	}
	logs := n.logs.String()
	if !strings.Contains(logs, "plugin 'mtls-echo' (certificate)") || !strings.Contains(logs, "certificate phase failure") {
		t.Errorf("log:\n%s", logs)
	}
	// the worker is free for the next handshakes and requests
	if code, _ := n.get(t, "/m"); code != 200 {
		t.Errorf("plain request after the failure: %d", code)
	}
}

// A global plugin's certificate handler replaces the certificate of the
// handshakes it chooses with ngx.ssl (clear_certs, set_der_cert,
// set_der_priv_key from PEM, as Kong's acme plugin does); the others get
// the listener's.
func TestCertificatePhaseSetsCertificate(t *testing.T) {
	root := kongdbtest.Issue(t, "Root CA", true, nil, nil)
	leaf := kongdbtest.Issue(t, "acme.test", false, root, nil)
	keyDER, err := x509.MarshalECPrivateKey(leaf.Key)
	if err != nil {
		t.Fatal(err)
	}
	def, err := proxy.SelfSignedCertificate()
	if err != nil {
		t.Fatal(err)
	}
	c := testConf(t, "testdata/tls")
	n := newRLNodeWith(t, c, proxy.Config{GetCertificate: proxy.NewCertificates(def, nil).GetCertificate})
	n.route(t, "/m")
	n.plugin(t, "sni-cert", nil, map[string]any{"sni": "acme.test", "cert": leaf.PEM,
		"key": string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))})
	n.sync(t)
	presented := func(sni string) string {
		t.Helper()
		conn, err := tls.Dial("tcp", n.tlsAddr, &tls.Config{InsecureSkipVerify: true, ServerName: sni})
		if err != nil {
			t.Fatalf("%s: %v\n%s", sni, err, n.logs.String())
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	if got := presented("acme.test"); got != "acme.test" {
		t.Errorf("acme.test got %q", got)
	}
	if got := presented("other.test"); got != "localhost" {
		t.Errorf("other.test got %q", got)
	}
}
