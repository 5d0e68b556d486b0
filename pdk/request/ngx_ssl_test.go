package request

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"

	"github.com/luahost/luahost/kongdb/kongdbtest"
	"github.com/luahost/luahost/proxy"
)

// ngx.ssl's connection functions answer in the certificate phase from the
// handshake (SNI, the version about to be negotiated, both addresses) and
// in the request's phases from the TLS connection; on a plain connection
// nil and "bad request"; outside a request they raise.
func TestNgxSSLConnection(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	const probe = `
		local ssl = require "ngx.ssl"
		local function rec(k, ...)
		  local v = { ... }
		  record(PHASE .. " " .. k, tostring(v[1]) .. "," .. tostring(v[2]) .. "," .. tostring(v[3]))
		end
		rec("server_name", ssl.server_name())
		rec("server_port", ssl.server_port() == tonumber(PORT), select(2, ssl.server_port()))
		local addr, typ, err = ssl.raw_client_addr()
		rec("client_addr", addr == "\127\0\0\1", typ, err)
		addr, typ, err = ssl.raw_server_addr()
		rec("server_addr", addr == "\127\0\0\1", typ, err)
		rec("version", ssl.get_tls1_version() == ssl.TLS1_3_VERSION, select(2, ssl.get_tls1_version()))
		rec("version_str", ssl.get_tls1_version_str())
	`
	port := e.tlsAddr[strings.LastIndexByte(e.tlsAddr, ':')+1:]
	e.on(PhaseCertificate, `local PHASE, PORT = "certificate", "`+port+`"`+probe)
	e.on(PhaseAccess, `local PHASE, PORT = "access", "`+port+`"`+probe)
	if c, err := tls.Dial("tcp", e.tlsAddr, &tls.Config{ServerName: "sni.example.com", InsecureSkipVerify: true}); err != nil {
		t.Fatalf("%v: %s", err, e.err(PhaseCertificate))
	} else {
		e.serveOn(c, getX)
	}
	e.noErrors()
	for _, p := range []string{"certificate", "access"} {
		e.want(
			p+" server_name", "sni.example.com,nil,nil",
			p+" server_port", "true,nil,nil",
			p+" client_addr", "true,inet,nil",
			p+" server_addr", "true,inet,nil",
			p+" version", "true,nil,nil",
			p+" version_str", "TLSv1.3,nil,nil",
		)
	}
	// without SNI: nil, no error
	e.off(PhaseCertificate)
	e.serveTLS(getX, "")
	e.want("access server_name", "nil,nil,nil")

	// plain connection
	e.on(PhaseAccess, `local PHASE, PORT = "plain", "0"`+probe)
	e.get("/x")
	e.want(
		"plain server_name", "nil,bad request,nil",
		"plain server_port", "false,bad request,nil",
		"plain client_addr", "false,nil,bad request",
		"plain version", "false,bad request,nil",
		"plain version_str", "nil,bad request,nil",
	)
	e.noErrors()

	// outside a request
	e.in.Phase = "timer"
	if err := e.in.L.DoString(`
		local ok, err = pcall(function() return require("ngx.ssl").server_name() end)
		record("timer", err)
		ok, err = pcall(function() return require("ngx.ssl").parse_pem_cert("x") end)
		record("cdata", err)
	`); err != nil {
		t.Fatal(err)
	}
	e.want("timer", "<string>:2: no request found",
		"cdata", "<string>:4: ngx.ssl.parse_pem_cert is not supported by luahost")
}

// keyPEM is key in PEM as OpenSSL writes an EC key (SEC 1).
func keyPEM(t *testing.T, i *kongdbtest.Issued) string {
	der, err := x509.MarshalECPrivateKey(i.Key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
}

// In the certificate phase clear_certs, set_der_cert and set_der_priv_key
// replace the certificate the handshake presents (Kong's acme plugin), with
// the chain given; cert_pem_to_der/priv_key_pem_to_der make their DER. A
// key that is not the certificate's is refused; clearing without setting
// fails the handshake; data that is not DER is refused with
// lua-nginx-module's messages.
func TestNgxSSLSetCertificate(t *testing.T) {
	root := kongdbtest.Issue(t, "Root CA", true, nil, nil)
	leaf := kongdbtest.Issue(t, "acme.test", false, root, nil)
	other := kongdbtest.Issue(t, "other.test", false, root, nil)
	e := newEnv(t, proxy.Config{})
	set := fmt.Sprintf(`
		local ssl = require "ngx.ssl"
		local cert = assert(ssl.cert_pem_to_der(%q .. %q))
		local key = assert(ssl.priv_key_pem_to_der(%q))
		local other_key = assert(ssl.priv_key_pem_to_der(%q))
		record("chain", #cert == %d)
		record("garbage cert", select(2, ssl.set_der_cert("garbage")))
		record("garbage key", select(2, ssl.set_der_priv_key("garbage")))
		record("pem none", select(2, ssl.cert_pem_to_der("no pem")))
		record("key none", select(2, ssl.priv_key_pem_to_der("no pem")))
		assert(ssl.clear_certs())
		assert(ssl.set_der_cert(cert))
		record("other key", select(2, ssl.set_der_priv_key(other_key)))
		assert(ssl.set_der_priv_key(key))
	`, leaf.PEM, root.PEM, keyPEM(t, leaf), keyPEM(t, other), len(leaf.Cert.Raw)+len(root.Cert.Raw))
	e.on(PhaseCertificate, set)
	var got []*x509.Certificate
	conn, err := tls.Dial("tcp", e.tlsAddr, &tls.Config{InsecureSkipVerify: true, ServerName: "x.test",
		VerifyPeerCertificate: func(_ [][]byte, _ [][]*x509.Certificate) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	got = conn.ConnectionState().PeerCertificates
	conn.Close()
	e.noErrors()
	if len(got) != 2 || got[0].Subject.CommonName != "acme.test" || got[1].Subject.CommonName != "Root CA" {
		t.Errorf("presented %d certificates: %v", len(got), got)
	}
	e.want(
		"chain", "true",
		"garbage cert", "d2i_X509_bio() failed",
		"garbage key", "d2i_PrivateKey_bio() failed",
		"pem none", "PEM_read_bio_X509_AUX() failed",
		"key none", "PEM_read_bio_PrivateKey() failed",
		"other key", "SSL_use_PrivateKey() failed",
	)

	// cleared and nothing set: the handshake fails
	e.on(PhaseCertificate, `assert(require("ngx.ssl").clear_certs())`)
	if c, err := tls.Dial("tcp", e.tlsAddr, &tls.Config{InsecureSkipVerify: true}); err == nil {
		c.Close()
		t.Error("handshake succeeded without a certificate")
	}
}
