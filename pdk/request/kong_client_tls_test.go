package request

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/luahost/luahost/kongdb/kongdbtest"
	"github.com/luahost/luahost/proxy"
)

// testPKI is a root CA, an intermediate and a client certificate issued by
// the intermediate.
type testPKI struct{ root, inter, leaf *kongdbtest.Issued }

func newTestPKI(t *testing.T) testPKI {
	root := kongdbtest.Issue(t, "Root CA", true, nil, nil)
	inter := kongdbtest.Issue(t, "Intermediate CA", true, root, nil)
	leaf := kongdbtest.Issue(t, "foo@example.com", false, inter, func(c *x509.Certificate) {
		c.NotAfter = time.Now().Add(60 * time.Hour)
	})
	return testPKI{root, inter, leaf}
}

// chainSnippet builds a resty.openssl.x509.chain of the PEMs in Lua.
func chainSnippet(pems ...string) string {
	var b strings.Builder
	b.WriteString("local x509 = require \"resty.openssl.x509\"\n")
	b.WriteString("local chain = require(\"resty.openssl.x509.chain\").new()\n")
	for _, p := range pems {
		fmt.Fprintf(&b, "assert(chain:add(assert(x509.new(%q))))\n", p)
	}
	return b.String()
}

// serveTLSCert is serveTLS presenting cert when the server asks for one
// (nil: none).
func (e *env) serveTLSCert(raw string, cert *tls.Certificate) {
	e.t.Helper()
	conn, err := tls.Dial("tcp", e.tlsAddr, &tls.Config{ServerName: "example.com", InsecureSkipVerify: true,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if cert == nil {
				return &tls.Certificate{}, nil
			}
			return cert, nil
		}})
	if err != nil {
		e.t.Fatal(err)
	}
	if res := e.serveOn(conn, raw); res.StatusCode() != 200 {
		e.t.Fatalf("status %d", res.StatusCode())
	}
}

const getX = "GET /x HTTP/1.1\r\nHost: example.com\r\n\r\n"

// A client certificate requested in the certificate phase is the chain
// get_full_client_certificate_chain returns in the later phases (PEM, the
// client's certificate first, then what it sent after it); without one it
// is nil and no error; on a plain connection nil and resty.kong.tls's
// message. ngx.var's ssl_client_* follow, and kong.log.serialize reports
// the TLS connection with set_client_verify's value over
// $ssl_client_verify.
func TestClientTLSCertificateChain(t *testing.T) {
	pki := newTestPKI(t)
	e := newEnv(t, proxy.Config{})
	e.on(PhaseCertificate, chainSnippet(pki.inter.PEM, pki.root.PEM)+`
		local ok, err = kong.client.tls.request_client_certificate(chain.ctx)
		record("request", tostring(ok) .. " " .. tostring(err))
		record("cert_phase", ngx.get_phase())
		record("cert_kong_phase", ngx.ctx.KONG_PHASE)
		ngx.ctx.cert_phase_value = "set"
	`)
	e.on(PhaseAccess, `
		local chain, err = kong.client.tls.get_full_client_certificate_chain()
		record("chain", tostring(chain))
		record("err", tostring(err))
		record("n", select("#", kong.client.tls.get_full_client_certificate_chain()))
		for _, v in ipairs({"ssl_client_verify", "ssl_client_s_dn", "ssl_client_i_dn", "ssl_client_raw_cert",
		                    "ssl_client_fingerprint", "ssl_client_serial", "ssl_client_v_remain"}) do
		  record(v, tostring(ngx.var[v]))
		end
		record("cert_ctx", tostring(ngx.ctx.cert_phase_value))
	`)
	e.on(PhaseLog, `
		record("log_chain", tostring(kong.client.tls.get_full_client_certificate_chain()))
		local tls = kong.log.serialize().request.tls
		record("ser", tls and (tls.version .. " " .. tostring(tls.cipher) .. " " .. tls.client_verify) or "nil")
	`)

	sent := pki.leaf.TLS(pki.inter)
	e.serveTLSCert(getX, &sent)
	e.noErrors()
	leafPEM := pki.leaf.PEM
	e.want("request", "true nil", "cert_phase", "ssl_cert", "cert_kong_phase", "2",
		"chain", leafPEM+pki.inter.PEM, "err", "nil", "n", "1",
		"log_chain", leafPEM+pki.inter.PEM,
		"ssl_client_verify", "FAILED:unable to get issuer certificate",
		"ssl_client_s_dn", "CN=foo@example.com,O=Kong Testing",
		"ssl_client_i_dn", "CN=Intermediate CA,O=Kong Testing",
		"ssl_client_raw_cert", leafPEM,
		"ssl_client_serial", strings.ToUpper(fmt.Sprintf("%x", pki.leaf.Cert.SerialNumber.Bytes())),
		"ssl_client_v_remain", "2", // valid for 60 hours from now: two whole days left
		"cert_ctx", "nil",
		"ser", "TLSv1.3 TLS_AES_128_GCM_SHA256 FAILED:unable to get issuer certificate")
	if fp := e.rec("ssl_client_fingerprint"); len(fp) != 40 {
		t.Errorf("fingerprint %q", fp)
	}

	// requested, none sent
	e.clear()
	e.serveTLSCert(getX, nil)
	e.noErrors()
	e.want("request", "true nil", "chain", "nil", "err", "nil", "n", "1", "ssl_client_verify", "NONE",
		"ssl_client_s_dn", "nil", "ssl_client_raw_cert", "nil", "log_chain", "nil",
		"ser", "TLSv1.3 TLS_AES_128_GCM_SHA256 NONE")

	// not requested: the client is not asked
	e.clear()
	e.off(PhaseCertificate)
	e.serveTLSCert(getX, &sent)
	e.want("request", "<missing>", "chain", "nil", "err", "nil", "ssl_client_verify", "NONE")

	// plain HTTP
	e.clear()
	if res := e.serve(getX); res.StatusCode() != 200 {
		t.Fatalf("plain: %d", res.StatusCode())
	}
	e.want("chain", "nil", "err", "connection is not TLS or TLS support for Nginx not enabled", "n", "2",
		"ssl_client_verify", "nil", "ser", "nil")

	// set_client_verify overrides what the serializer reports only
	e.clear()
	e.on(PhaseCertificate, `kong.client.tls.request_client_certificate()`)
	e.on(PhaseAccess, `
		kong.client.tls.set_client_verify("FAILED:revoked")
		record("ssl_client_verify", ngx.var.ssl_client_verify)
	`)
	e.serveTLSCert(getX, &sent)
	e.noErrors()
	e.want("ssl_client_verify", "FAILED:unable to get local issuer certificate",
		"ser", "TLSv1.3 TLS_AES_128_GCM_SHA256 FAILED:revoked")
}

// A TLS 1.2 connection reports OpenSSL's cipher name; an empty ssl
// variable is nil, as nginx's not-found.
func TestClientTLSCipherName(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseAccess, `
		record("cipher", ngx.var.ssl_cipher)
		record("proto", ngx.var.ssl_protocol)
		record("sni", tostring(ngx.var.ssl_server_name))
	`)
	conn, err := tls.Dial("tcp", e.tlsAddr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}})
	if err != nil {
		t.Fatal(err)
	}
	e.serveOn(conn, getX)
	e.noErrors()
	// no SNI: $ssl_server_name is empty, so not found
	e.want("cipher", "ECDHE-ECDSA-AES256-GCM-SHA384", "proto", "TLSv1.2", "sni", "nil")
}

// Each function of kong.client.tls raises Kong's phase_checker message
// outside its phases (tls.lua: request_client_certificate and
// disable_session_reuse in certificate only, get_full_client_certificate_chain
// in REWRITE_AND_LATER, set_client_verify in REWRITE_BEFORE_LOG).
func TestClientTLSPhaseChecks(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	const probe = `
		local function try(name, ...)
		  local ok, err = pcall(kong.client.tls[name], ...)
		  record(PHASE .. ":" .. name, ok and "ok" or err)
		end
		try("request_client_certificate")
		try("disable_session_reuse")
		try("get_full_client_certificate_chain")
		try("set_client_verify", "SUCCESS")
	`
	for p, name := range map[Phase]string{PhaseCertificate: "certificate", PhaseRewrite: "rewrite",
		PhaseAccess: "access", PhaseHeaderFilter: "header_filter", PhaseBodyFilter: "body_filter", PhaseLog: "log"} {
		e.on(p, `local PHASE = "`+name+`"`+probe)
	}
	e.serveTLSCert(getX, nil)
	e.noErrors()
	const (
		certOnly = " phase (only in: certificate)"
		chain    = " phase (only in: rewrite, access, balancer, response, log)"
		verify   = " phase (only in: rewrite, access, balancer, response)"
		cannot   = "function cannot be called in "
	)
	e.want(
		"certificate:request_client_certificate", "ok",
		"certificate:disable_session_reuse", "ok",
		"certificate:get_full_client_certificate_chain", cannot+"certificate"+chain,
		"certificate:set_client_verify", cannot+"certificate"+verify,
		"rewrite:request_client_certificate", cannot+"rewrite"+certOnly,
		"rewrite:disable_session_reuse", cannot+"rewrite"+certOnly,
		"rewrite:get_full_client_certificate_chain", "ok",
		"rewrite:set_client_verify", "ok",
		"access:request_client_certificate", cannot+"access"+certOnly,
		"access:disable_session_reuse", cannot+"access"+certOnly,
		"access:get_full_client_certificate_chain", "ok",
		"access:set_client_verify", "ok",
		"header_filter:request_client_certificate", cannot+"header_filter"+certOnly,
		"header_filter:get_full_client_certificate_chain", cannot+"header_filter"+chain,
		"header_filter:set_client_verify", cannot+"header_filter"+verify,
		"body_filter:disable_session_reuse", cannot+"body_filter"+certOnly,
		"body_filter:get_full_client_certificate_chain", cannot+"body_filter"+chain,
		"body_filter:set_client_verify", cannot+"body_filter"+verify,
		"log:request_client_certificate", cannot+"log"+certOnly,
		"log:get_full_client_certificate_chain", "ok",
		"log:set_client_verify", cannot+"log"+verify,
	)

	// outside a request's phases: Kong's "no phase" message
	e.in.Phase = "timer"
	if err := e.in.L.DoString(`
		local ok, err = pcall(kong.client.tls.disable_session_reuse)
		record("timer", err)
	`); err != nil {
		t.Fatal(err)
	}
	e.want("timer", "no phase in ngx.ctx.KONG_PHASE, (need one of certificate)")
}

// Argument errors: the CA list must be a chain's ctx (LuaJIT's FFI refuses
// anything else for the STACK_OF(X509) pointer), set_client_verify takes a
// string among Kong's values; resty.openssl.x509's own errors.
func TestClientTLSArguments(t *testing.T) {
	pki := newTestPKI(t)
	e := newEnv(t, proxy.Config{})
	e.on(PhaseCertificate, chainSnippet(pki.root.PEM)+`
		local tls = kong.client.tls
		record("string", select(2, pcall(tls.request_client_certificate, "pem")))
		record("table", select(2, pcall(tls.request_client_certificate, chain)))
		record("number", select(2, pcall(tls.request_client_certificate, 1)))
		record("x509 ctx", select(2, pcall(tls.request_client_certificate, chain[1].ctx)))
		record("len", #chain)
		record("istype", tostring(require("resty.openssl.x509.chain").istype(chain)))
		local x509 = require "resty.openssl.x509"
		record("x509 number", select(2, x509.new(1)))
		record("x509 garbage", select(2, x509.new("garbage", "PEM")))
		record("x509 fmt", select(2, x509.new("garbage", "TXT")))
		record("add", select(2, chain:add("x")))
		record("der", tostring(x509.new(chain[1]:tostring("DER"), "DER"):to_PEM() == chain[1]:to_PEM()))
		local ok, err = tls.disable_session_reuse()
		record("reuse", tostring(ok) .. " " .. tostring(err))
	`)
	e.on(PhaseAccess, `
		local tls = kong.client.tls
		record("verify number", select(2, pcall(tls.set_client_verify, 1)))
		record("verify nil", select(2, pcall(tls.set_client_verify)))
		record("verify bad", select(2, pcall(tls.set_client_verify, "OK")))
		record("verify short", select(2, pcall(tls.set_client_verify, "FAILED")))
		record("verify failed", tostring(pcall(tls.set_client_verify, "FAILED:")))
		local ok, err = pcall(function() tls.set_client_verify("nope") end)
		record("verify position", err)
	`)
	e.serveTLSCert(getX, nil)
	e.noErrors()
	ffi := "bad argument #2 to 'ngx_http_lua_ffi_ssl_verify_client' (cannot convert '%s' to 'void *')"
	bad := `unknown client verify value: %s accepted values are: "SUCCESS", "NONE" or "FAILED:<reason>"`
	e.want(
		"string", fmt.Sprintf(ffi, "string"),
		"table", fmt.Sprintf(ffi, "table"),
		"number", fmt.Sprintf(ffi, "number"),
		"x509 ctx", fmt.Sprintf(ffi, "userdata"),
		"len", "1", "istype", "true",
		"x509 number", "x509.new: expect nil or a string at #1",
		"x509 garbage", "x509.new: PEM_read_bio_X509() failed: no start line",
		"x509 fmt", `x509.new: expect fmt to be "PEM", "DER" or "*"`,
		"add", "x509.chain:add: expect a x509 instance at #1",
		"der", "true",
		"reuse", "true nil",
		"verify number", "assertion failed!",
		"verify nil", "assertion failed!",
		"verify bad", fmt.Sprintf(bad, "OK"),
		"verify short", fmt.Sprintf(bad, "FAILED"),
		"verify failed", "true",
		"verify position", "snippet:8: "+fmt.Sprintf(bad, "nope"),
	)
}

// A Lua error in the certificate phase fails the handshake; ngx.exit(ngx.OK)
// ends the phase and lets it go on, another status fails it.
func TestClientTLSCertificatePhaseErrors(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	dial := func() error {
		conn, err := tls.Dial("tcp", e.tlsAddr, &tls.Config{InsecureSkipVerify: true})
		if err == nil {
			conn.Close()
		}
		return err
	}
	e.on(PhaseCertificate, `error("boom")`)
	if err := dial(); err == nil {
		t.Error("handshake succeeded after an error")
	}
	if got := e.err(PhaseCertificate); got != "snippet:1: boom" {
		t.Errorf("error %q", got)
	}
	e.on(PhaseCertificate, `ngx.exit(ngx.ERROR)`)
	if err := dial(); err == nil {
		t.Error("handshake succeeded after ngx.exit(ngx.ERROR)")
	}
	e.on(PhaseCertificate, `ngx.exit(ngx.OK) error("not reached")`)
	if err := dial(); err != nil {
		t.Errorf("ngx.exit(ngx.OK): %v", err)
	}
}

// On a connection closed after its response the log phase reads a
// snapshot of the request: the TLS connection's variables still answer.
func TestClientTLSLogAfterClose(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseLog, `
		record("https", ngx.var.https)
		record("scheme", ngx.var.scheme)
		record("proto", tostring(ngx.var.ssl_protocol))
	`)
	if res := e.serveTLS("GET /x HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n", "example.com"); res.StatusCode() != 200 {
		t.Fatalf("status %d", res.StatusCode())
	}
	e.noErrors()
	e.want("https", "on", "scheme", "https", "proto", "TLSv1.3")
}

// ngx.var in the certificate phase raises lua-nginx-module's "API disabled
// in the current context" at the caller, read or written, whatever the
// variable (ssl_certificate_by_lua runs on a fake request); kong.client's
// address getters, which read ngx.var in Kong, raise it too. The request's
// phases read the same variables.
func TestCertificatePhaseNgxVar(t *testing.T) {
	e := newEnv(t, proxy.Config{})
	e.on(PhaseCertificate, `
		for _, name in ipairs({ "ssl_server_name", "remote_addr", "binary_remote_addr", "server_port", "uri", "nope" }) do
		  record("var " .. name, select(2, pcall(function() return ngx.var[name] end)))
		end
		record("var 1", select(2, pcall(function() return ngx.var[1] end)))
		record("set", select(2, pcall(function() ngx.var.upstream_uri = "/x" end)))
		for _, f in ipairs({ "get_ip", "get_forwarded_ip", "get_port", "get_forwarded_port" }) do
		  local _, err = pcall(kong.client[f])
		  record(f, (err:gsub("^.-:%d+: ", "")))
		end
	`)
	e.on(PhaseAccess, `
		record("access sni", ngx.var.ssl_server_name)
		record("access ip", kong.client.get_ip())
	`)
	e.serveTLSCert(getX, nil)
	e.noErrors()
	const disabled = "API disabled in the current context"
	e.want(
		"var ssl_server_name", "snippet:3: "+disabled,
		"var remote_addr", "snippet:3: "+disabled,
		"var binary_remote_addr", "snippet:3: "+disabled,
		"var server_port", "snippet:3: "+disabled,
		"var uri", "snippet:3: "+disabled,
		"var nope", "snippet:3: "+disabled,
		"var 1", "snippet:5: "+disabled,
		"set", "snippet:6: "+disabled,
		"get_ip", disabled,
		"get_forwarded_ip", disabled,
		"get_port", disabled,
		"get_forwarded_port", disabled,
		"access sni", "example.com",
		"access ip", "127.0.0.1",
	)
}
