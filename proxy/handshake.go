package proxy

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"net"
	"sync/atomic"
	"time"
)

// The certificate phase. Kong runs the global plugins' certificate
// handlers from ssl_certificate_by_lua, during each TLS handshake of its
// proxy listeners, after it chose the certificate by SNI
// (kong/init.lua Kong.ssl_certificate). Here it runs from
// tls.Config.GetConfigForClient: the certificate is chosen first (a
// failure there fails the handshake before any plugin runs), then
// Config.Certificate; an error from it fails the handshake. What the
// plugins asked for (kong.client.tls.request_client_certificate,
// disable_session_reuse) makes the connection's own configuration.

// Handshake is one TLS handshake of an ssl listener while Config.Certificate
// runs. Its methods record what the certificate phase asks of the
// handshake; they are called on the handshake's goroutine only.
type Handshake struct {
	// Hello is the client's hello (nil once the phase is over).
	Hello *tls.ClientHelloInfo

	requestCert bool
	cas         []*x509.Certificate
	noReuse     bool

	base *tls.Config // the listener's, for the version
	// the certificate the handshake will present, as ngx.ssl leaves it:
	// chain (DER, the leaf first) and key; certSet once a plugin changed
	// them
	chain   [][]byte
	leaf    *x509.Certificate
	key     crypto.PrivateKey
	certSet bool
}

// Version is the protocol version the handshake negotiates (OpenSSL has
// chosen it when the certificate callback runs; crypto/tls chooses it
// after GetConfigForClient, the same way: the client's first version the
// listener allows).
func (h *Handshake) Version() uint16 {
	if h.Hello == nil {
		return 0
	}
	lo, hi := uint16(tls.VersionTLS10), uint16(tls.VersionTLS13)
	if h.base != nil {
		if h.base.MinVersion != 0 {
			lo = h.base.MinVersion
		}
		if h.base.MaxVersion != 0 {
			hi = h.base.MaxVersion
		}
	}
	for _, v := range h.Hello.SupportedVersions {
		if v >= lo && v <= hi {
			return v
		}
	}
	return 0
}

// ClearCerts removes the handshake's certificate and key
// (ngx.ssl.clear_certs, SSL_certs_clear): unless others are set before
// the phase ends, the handshake fails.
func (h *Handshake) ClearCerts() {
	h.chain, h.leaf, h.key, h.certSet = nil, nil, nil, true
}

// ErrDERCert is SetCertDER's error for data that is not DER certificates
// (lua-nginx-module's message).
var ErrDERCert = errors.New("d2i_X509_bio() failed")

// ErrPrivateKey is SetPrivateKey's error for a key that is not the
// certificate's (OpenSSL's SSL_use_PrivateKey refuses it).
var ErrPrivateKey = errors.New("SSL_use_PrivateKey() failed")

// SetCertDER sets the certificate the handshake presents, with its chain
// (ngx.ssl.set_der_cert: der is certificates in DER one after the other,
// the leaf first). A key set before that is not the leaf's is dropped,
// as OpenSSL drops it; a handshake ending the phase without a key fails.
func (h *Handshake) SetCertDER(der []byte) error {
	var chain [][]byte
	var leaf *x509.Certificate
	for rest := der; len(rest) > 0 || chain == nil; {
		var raw asn1.RawValue
		next, err := asn1.Unmarshal(rest, &raw)
		if err != nil {
			return ErrDERCert
		}
		one := rest[:len(rest)-len(next)]
		c, err := x509.ParseCertificate(one)
		if err != nil {
			return ErrDERCert
		}
		if leaf == nil {
			leaf = c
		}
		chain = append(chain, one)
		rest = next
	}
	h.chain, h.leaf, h.certSet = chain, leaf, true
	if h.key != nil && !keyMatches(leaf, h.key) {
		h.key = nil
	}
	return nil
}

// SetPrivateKey sets the handshake's private key
// (ngx.ssl.set_der_priv_key); it must be the certificate's when one is
// set.
func (h *Handshake) SetPrivateKey(key crypto.PrivateKey) error {
	if h.leaf != nil && !keyMatches(h.leaf, key) {
		return ErrPrivateKey
	}
	h.key, h.certSet = key, true
	return nil
}

func keyMatches(leaf *x509.Certificate, key crypto.PrivateKey) bool {
	signer, ok := key.(crypto.Signer)
	if !ok {
		return false
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(leaf.PublicKey)
}

// errNoCertificate fails a handshake whose certificate phase cleared the
// certificate and set none (OpenSSL finds no certificate to present).
var errNoCertificate = errors.New("no certificate set in the certificate phase")

// RequestClientCertificate asks the client for a certificate without
// requiring one (ngx.ssl.verify_client(cas, 0)): the handshake completes
// whatever the client sends, and the subjects of cas are sent as the
// acceptable CA names (none when cas is empty). cas are also the trust
// store $ssl_client_verify is computed with.
func (h *Handshake) RequestClientCertificate(cas []*x509.Certificate) {
	h.requestCert = true
	h.cas = append(h.cas[:0:0], cas...)
}

// DisableSessionReuse keeps the connection's TLS session from being
// resumed by a later one (resty.kong.tls disable_session_reuse: no session
// ticket, no session cache entry). crypto/tls resumes only from tickets:
// none is issued, and none is accepted in this handshake either.
func (h *Handshake) DisableSessionReuse() { h.noReuse = true }

// hsConn is an accepted connection of an ssl listener, under its TLS
// layer: it keeps what its certificate phase asked for, for the requests
// served on it.
type hsConn struct {
	net.Conn
	hs     Handshake
	verify atomic.Pointer[string] // $ssl_client_verify, computed once
}

// tlsListener is tls.NewListener with each connection an hsConn under the
// TLS layer (GetConfigForClient finds it as ClientHelloInfo.Conn).
type tlsListener struct {
	net.Listener
	conf *tls.Config
}

func (l tlsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return tls.Server(&hsConn{Conn: c}, l.conf), nil
}

// configForClient is the ssl listeners' GetConfigForClient when
// Config.Certificate is set: it runs the certificate phase and returns the
// handshake's own configuration when a plugin changed it (nil: base).
func (p *Proxy) configForClient(base *tls.Config) func(*tls.ClientHelloInfo) (*tls.Config, error) {
	return func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		hc, ok := hello.Conn.(*hsConn)
		if !ok {
			return nil, nil
		}
		// Kong: certificate.execute() before the plugins
		cert, err := p.cfg.GetCertificate(hello)
		if err != nil {
			return nil, err
		}
		h := &hc.hs
		h.Hello, h.base = hello, base
		if cert != nil {
			h.chain, h.leaf, h.key = cert.Certificate, cert.Leaf, cert.PrivateKey
			if h.leaf == nil && len(cert.Certificate) > 0 {
				h.leaf, _ = x509.ParseCertificate(cert.Certificate[0])
			}
		}
		err = p.cfg.Certificate(h)
		h.Hello, h.base = nil, nil
		if err != nil {
			return nil, err
		}
		if h.certSet {
			if len(h.chain) == 0 || h.key == nil {
				return nil, errNoCertificate
			}
			cert = &tls.Certificate{Certificate: h.chain, PrivateKey: h.key, Leaf: h.leaf}
		}
		h.chain, h.leaf, h.key = nil, nil, nil
		if !h.requestCert && !h.noReuse && !h.certSet {
			return nil, nil
		}
		conf := base.Clone()
		conf.GetConfigForClient = nil
		conf.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return cert, nil }
		if h.requestCert {
			conf.ClientAuth = tls.RequestClientCert
			if len(h.cas) > 0 {
				pool := x509.NewCertPool()
				for _, ca := range h.cas {
					pool.AddCert(ca)
				}
				// with RequestClientCert the pool is sent as the CA names
				// and not verified against (the result is
				// $ssl_client_verify's)
				conf.ClientCAs = pool
			}
		}
		if h.noReuse {
			conf.SessionTicketsDisabled = true
		}
		return conf, nil
	}
}

// errNoTLS is Context.ClientCertificates' answer on a plain connection.
var errNoTLS = errors.New("connection is not TLS")

// ClientCertificates is the certificate chain the client presented on the
// request's TLS connection, as it sent it (its certificate first); none
// when it sent none or was not asked. The error is set on a plain
// connection.
func (c *Context) ClientCertificates() ([]*x509.Certificate, error) {
	if c.tc == nil {
		return nil, errNoTLS
	}
	return c.tc.tc.ConnectionState().PeerCertificates, nil
}

// ClientVerify is nginx's $ssl_client_verify on the request's TLS
// connection: "NONE" without a client certificate, else "SUCCESS" or
// "FAILED:<reason>" (see clientVerify); false on a plain connection.
func (c *Context) ClientVerify() (string, bool) {
	if c.tc == nil {
		return "", false
	}
	hc := c.tc.hs
	if hc == nil {
		return "NONE", true
	}
	if v := hc.verify.Load(); v != nil {
		return *v, true
	}
	// the state first: its lock orders the handshake's writes of hs
	// before the read of the CA list
	peer := c.tc.tc.ConnectionState().PeerCertificates
	v := clientVerify(peer, hc.hs.cas, time.Now())
	hc.verify.Store(&v)
	return v, true
}

// TLSState is the request's TLS connection state; false on a plain
// connection.
func (c *Context) TLSState() (tls.ConnectionState, bool) {
	if c.tc == nil {
		return tls.ConnectionState{}, false
	}
	return c.tc.tc.ConnectionState(), true
}

// clientVerify is the verification result OpenSSL leaves for a client
// certificate requested by ngx.ssl.verify_client(cas, 0), as nginx's
// $ssl_client_verify shows it. The verify callback lua-nginx-module
// installs accepts every certificate, so the handshake goes on and the
// result is the last error OpenSSL met; the texts are
// X509_verify_cert_error_string's (OpenSSL 3). Depth 0 allows the
// client's certificate and a trust anchor: a certificate issued by one of
// cas that is self-signed succeeds; one issued by a CA of cas that is not
// a root fails with "unable to get issuer certificate" (Kong's
// t/01-pdk/14-client-tls/01-request_client_certificate.t TEST 3 and 4),
// the intermediates the client sends are not used. Validity dates are
// checked last in OpenSSL, so they are reported over a chain error.
func clientVerify(certs, cas []*x509.Certificate, now time.Time) string {
	if len(certs) == 0 {
		return "NONE"
	}
	leaf := certs[0]
	switch {
	case now.Before(leaf.NotBefore):
		return "FAILED:certificate is not yet valid"
	case now.After(leaf.NotAfter):
		return "FAILED:certificate has expired"
	}
	if !clientPurpose(leaf) {
		return "FAILED:unsupported certificate purpose"
	}
	if selfSigned(leaf) {
		for _, ca := range cas {
			if leaf.Equal(ca) {
				return "SUCCESS"
			}
		}
		return "FAILED:self-signed certificate"
	}
	for _, ca := range cas {
		if !bytes.Equal(leaf.RawIssuer, ca.RawSubject) {
			continue
		}
		err := leaf.CheckSignatureFrom(ca)
		var cv x509.ConstraintViolationError
		switch {
		case errors.As(err, &cv):
			return "FAILED:invalid CA certificate"
		case err != nil:
			continue
		case now.After(ca.NotAfter):
			return "FAILED:certificate has expired"
		case now.Before(ca.NotBefore):
			return "FAILED:certificate is not yet valid"
		case selfSigned(ca):
			return "SUCCESS"
		}
		return "FAILED:unable to get issuer certificate"
	}
	return "FAILED:unable to get local issuer certificate"
}

// selfSigned: issuer and subject are the same and the certificate's key
// signed it.
func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) &&
		c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// clientPurpose is OpenSSL's X509_PURPOSE_SSL_CLIENT check of the client's
// certificate: an extended key usage, when present, allows clientAuth; a
// key usage, when present, allows digitalSignature or keyAgreement.
func clientPurpose(c *x509.Certificate) bool {
	if len(c.ExtKeyUsage) > 0 || len(c.UnknownExtKeyUsage) > 0 {
		ok := false
		for _, u := range c.ExtKeyUsage {
			if u == x509.ExtKeyUsageClientAuth || u == x509.ExtKeyUsageAny {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	if c.KeyUsage != 0 && c.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageKeyAgreement) == 0 {
		return false
	}
	return true
}
