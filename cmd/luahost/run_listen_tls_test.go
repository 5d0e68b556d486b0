package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/kongdb/kongdbtest"
)

// listenClient is an HTTP client speaking one protocol: "h1" (HTTP/1.1),
// "h2" (ALPN h2 over TLS, nothing else) or "h2c" (HTTP/2 with prior
// knowledge in cleartext). tlsConf is for https URLs.
func listenClient(proto string, tlsConf *tls.Config) *http.Client {
	var ps http.Protocols
	switch proto {
	case "h1":
		ps.SetHTTP1(true)
	case "h2":
		ps.SetHTTP2(true)
	case "h2c":
		ps.SetUnencryptedHTTP2(true)
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Protocols: &ps, TLSClientConfig: tlsConf}}
}

// admin_listen and status_listen entries flagged ssl and http2 are served
// as Kong serves them: TLS with admin_ssl_cert / status_ssl_cert (a file;
// base64 of the PEM) or, both unset, a certificate generated at start for
// each kind; HTTP/2 through ALPN h2 over TLS and with prior knowledge in
// cleartext, HTTP/1.1 beside it; an ssl entry without http2 does not
// offer h2.
func TestRunAdminAndStatusTLSAndHTTP2(t *testing.T) {
	for _, configured := range []bool{true, false} {
		name := "generated"
		if configured {
			name = "configured"
		}
		t.Run(name, func(t *testing.T) {
			c := conf.New()
			c.Append("plugins_dir", "../../plugins", "test")
			c.Set("lua_package_path", "", "test")
			c.Set("mem_cache_size", "4m", "test")
			c.Set("log_level", "error", "test")
			c.Set("proxy_listen", "127.0.0.1:0", "test")
			c.Set("admin_listen", "127.0.0.1:0 reuseport backlog=16384, 127.0.0.1:0 http2 ssl reuseport backlog=16384, "+
				"127.0.0.1:0 http2, 127.0.0.1:0 ssl", "test")
			c.Set("status_listen", "127.0.0.1:0 http2 ssl, 127.0.0.1:0 http2", "test")
			// the clients trust the configured certificates (verified), or
			// take whatever is served (the generated ones)
			trust := map[string]*tls.Config{"admin": {InsecureSkipVerify: true}, "status": {InsecureSkipVerify: true}}
			if configured {
				for _, kind := range []string{"admin", "status"} {
					cert, key := kongdbtest.Cert(t, kind+".test", false, time.Now().Add(time.Hour))
					if kind == "admin" {
						c.Set("admin_ssl_cert", writeFile(t, "admin.crt", cert), "test")
						c.Set("admin_ssl_cert_key", writeFile(t, "admin.key", key), "test")
					} else {
						c.Set("status_ssl_cert", base64.StdEncoding.EncodeToString([]byte(cert)), "test")
						c.Set("status_ssl_cert_key", base64.StdEncoding.EncodeToString([]byte(key)), "test")
					}
					pool := x509.NewCertPool()
					pool.AppendCertsFromPEM([]byte(cert))
					trust[kind] = &tls.Config{RootCAs: pool, ServerName: kind + ".test"}
				}
			}
			sigs := make(chan os.Signal, 1)
			started := startNode(t, c, runOpts{signals: sigs})
			defer func() { sigs <- os.Interrupt; <-started.code }()
			n := started.node
			// the proxy serves before it is stopped (as TestStatusListen)
			waitFor(t, "http://"+n.Server.Addrs[0].String()+"/nowhere", 404)
			if n.Admin == nil || len(n.Admin.Addrs) != 4 || len(n.StatusAddrs) != 2 {
				t.Fatalf("admin %v, status %v", n.Admin, n.StatusAddrs)
			}
			adm, st := n.Admin.Addrs, n.StatusAddrs
			stderr := started.stderr.String()
			for _, want := range []string{
				"admin API listening on " + adm[0].String() + "\n",
				"admin API listening on " + adm[1].String() + " (ssl, http2)\n",
				"admin API listening on " + adm[2].String() + " (http2)\n",
				"admin API listening on " + adm[3].String() + " (ssl)\n",
				"status listening on " + st[0].String() + " (ssl, http2)\n",
				"status listening on " + st[1].String() + " (http2)\n",
			} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if strings.Contains(stderr, "not served") {
				t.Errorf("stderr: %s", stderr)
			}

			served := map[string]*x509.Certificate{} // by kind: the leaf served
			check := func(kind, proto, url, wantProto string) {
				t.Helper()
				res, err := listenClient(proto, trust[kind]).Get(url)
				if err != nil {
					t.Errorf("%s %s: %v", proto, url, err)
					return
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				var m map[string]any
				if res.StatusCode != 200 || res.Proto != wantProto || json.Unmarshal(body, &m) != nil || m["server"] == nil {
					t.Errorf("%s %s: %d %s (want %s): %s", proto, url, res.StatusCode, res.Proto, wantProto, body)
				}
				if kind == "admin" && res.Header.Get("Server") == "" {
					t.Errorf("%s %s: no Server header: %v", proto, url, res.Header)
				}
				if res.TLS != nil {
					leaf := res.TLS.PeerCertificates[0]
					if prev := served[kind]; prev != nil && !prev.Equal(leaf) {
						t.Errorf("%s: two certificates served", kind)
					}
					served[kind] = leaf
				}
			}
			for _, k := range []struct{ kind, base string }{{"admin", "/status"}, {"status", "/status"}} {
				addrs := adm[1:3]
				if k.kind == "status" {
					addrs = st
				}
				https, h2c := "https://"+addrs[0].String()+k.base, "http://"+addrs[1].String()+k.base
				check(k.kind, "h1", https, "HTTP/1.1")
				check(k.kind, "h2", https, "HTTP/2.0")
				check(k.kind, "h2c", h2c, "HTTP/2.0")
				check(k.kind, "h1", h2c, "HTTP/1.1")
			}
			check("admin", "h1", "http://"+adm[0].String()+"/status", "HTTP/1.1")
			check("admin", "h1", "https://"+adm[3].String()+"/status", "HTTP/1.1")
			// an ssl entry without http2 does not offer h2
			if _, err := listenClient("h2", trust["admin"]).Get("https://" + adm[3].String() + "/status"); err == nil {
				t.Errorf("HTTP/2 on an ssl entry without http2")
			}
			a, s := served["admin"], served["status"]
			if a == nil || s == nil {
				t.Fatalf("no certificate served: admin %v, status %v", a != nil, s != nil)
			}
			if configured {
				if a.Subject.CommonName != "admin.test" || s.Subject.CommonName != "status.test" {
					t.Errorf("served %q and %q", a.Subject.CommonName, s.Subject.CommonName)
				}
				return
			}
			// Kong's generated default: CN localhost, O Kong; one per kind
			for _, leaf := range []*x509.Certificate{a, s} {
				if leaf.Subject.CommonName != "localhost" || len(leaf.Subject.Organization) != 1 || leaf.Subject.Organization[0] != "Kong" {
					t.Errorf("generated certificate %v", leaf.Subject)
				}
			}
			if a.Equal(s) {
				t.Errorf("the Admin API and status_listen serve the same generated certificate")
			}
		})
	}
}

// A certificate setting that cannot be used stops the node with one line
// naming it (Kong's conf_loader messages where Kong has one).
func TestRunListenSSLCertErrors(t *testing.T) {
	cert, key := kongdbtest.Cert(t, "x.test", false, time.Now().Add(time.Hour))
	_, otherKey := kongdbtest.Cert(t, "y.test", false, time.Now().Add(time.Hour))
	certFile, keyFile := writeFile(t, "x.crt", cert), writeFile(t, "x.key", key)
	garbage := writeFile(t, "garbage.crt", "not a certificate\n")
	base := []string{"run", "--plugins-dir", "../../plugins", "--set", "mem_cache_size=4m", "--set", "proxy_listen=127.0.0.1:0",
		"--set", "admin_listen=127.0.0.1:0 http2 ssl"}
	for _, tc := range []struct {
		set  []string
		want string
	}{
		{[]string{"admin_ssl_cert=/nonexistent/admin.crt", "admin_ssl_cert_key=" + keyFile},
			"admin_ssl_cert: failed loading certificate from /nonexistent/admin.crt: no such file"},
		{[]string{"admin_ssl_cert=" + garbage, "admin_ssl_cert_key=" + keyFile},
			"admin_ssl_cert: failed loading certificate from " + garbage + ": no PEM certificate"},
		{[]string{"admin_ssl_cert=" + certFile, "admin_ssl_cert_key=" + writeFile(t, "other.key", otherKey)},
			"admin_ssl_cert_key: failed loading key from "},
		{[]string{"admin_ssl_cert=" + certFile}, "admin_ssl_cert_key must be specified"},
		{[]string{"admin_ssl_cert=" + certFile + "," + certFile, "admin_ssl_cert_key=" + keyFile},
			"admin_ssl_cert was specified 2 times while admin_ssl_cert_key was specified 1 times"},
		{[]string{"status_listen=127.0.0.1:0 ssl", "status_ssl_cert=/nonexistent/status.crt", "status_ssl_cert_key=" + keyFile},
			"status_ssl_cert: failed loading certificate from /nonexistent/status.crt"},
	} {
		args := append([]string{}, base...)
		for _, s := range tc.set {
			args = append(args, "--set", s)
		}
		code, stderr := runOnce(t, args...)
		checkOneLineError(t, strings.Join(tc.set, " "), code, stderr, tc.want)
	}
}
