package proxy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"strings"
	"sync/atomic"
	"time"
)

// TLS on the proxy's ssl listeners. The certificate of a handshake is
// chosen by its SNI as Kong's runloop/certificate.lua does: the snis entity
// named exactly as the server name, then "*.<rest>" (the first label
// replaced, for names of three labels or more), then "<name>.*" (the last
// label replaced), then the snis entity "*", else the default certificate
// (kong.conf's ssl_cert/ssl_cert_key, or one generated at start as Kong's
// prefix handler does). A handshake without SNI gets the default.

// SNICert is one snis row with its certificate, as Certificates.Load
// returns them (PEM text as the certificates entity stores it).
type SNICert struct {
	Name            string
	CertificateID   string
	Cert, Key       string
	CertAlt, KeyAlt string // the alternate (RSA/ECDSA) pair, "" when none
	LoadErr         error  // the certificate could not be read: handshakes for Name fail
}

// certEntry is a parsed snis entry.
type certEntry struct {
	primary, alt *tls.Certificate
	err          error // set: the handshake fails (Kong: ngx.exit(ngx.ERROR))
}

// Certificates is the proxy's certificate store: the snis/certificates
// entities, reloaded (Reload, or Trigger + Run on their CRUD events) into
// an immutable map read without a lock by each handshake.
type Certificates struct {
	// Load reads every snis row with its certificate (all workspaces).
	Load func(ctx context.Context) ([]SNICert, error)
	// Default is the certificate of a handshake no snis entity matches.
	Default *tls.Certificate
	// Debounce and Retry as RunDebounced takes them.
	Debounce, Retry time.Duration
	// OnReload, when set, is told each reload's outcome.
	OnReload func(n int, err error)

	trig chan struct{}
	cur  atomic.Pointer[map[string]*certEntry]
}

// NewCertificates returns a store serving def until the first Reload.
func NewCertificates(def *tls.Certificate, load func(ctx context.Context) ([]SNICert, error)) *Certificates {
	return &Certificates{Default: def, Load: load, trig: make(chan struct{}, 1)}
}

// Reload loads and parses every snis entity now; on a load error the
// previous set stays and the error is returned (Run retries it). A
// certificate that does not parse is reported to OnReload, not returned:
// the handshakes for its names fail until it is fixed.
func (c *Certificates) Reload(ctx context.Context) error {
	if c.Load == nil {
		return nil
	}
	rows, err := c.Load(ctx)
	if err != nil {
		if c.OnReload != nil {
			c.OnReload(0, err)
		}
		return err
	}
	m := make(map[string]*certEntry, len(rows))
	parsed := map[string]*certEntry{} // one parse per certificate
	var bad []string
	for _, r := range rows {
		e := parsed[r.CertificateID]
		if e == nil || r.CertificateID == "" {
			e = parseEntry(r)
			if r.CertificateID != "" {
				parsed[r.CertificateID] = e
			}
			if e.err != nil {
				bad = append(bad, r.Name+": "+e.err.Error())
			}
		}
		m[strings.ToLower(r.Name)] = e
	}
	c.cur.Store(&m)
	if c.OnReload != nil {
		var perr error
		if len(bad) > 0 {
			perr = errors.New("[ssl] " + strings.Join(bad, "; "))
		}
		c.OnReload(len(rows), perr)
	}
	return nil
}

func parseEntry(r SNICert) *certEntry {
	if r.LoadErr != nil {
		return &certEntry{err: r.LoadErr}
	}
	pair, err := parsePair(r.Cert, r.Key)
	if err != nil {
		return &certEntry{err: err}
	}
	e := &certEntry{primary: pair}
	if r.CertAlt != "" && r.KeyAlt != "" {
		if e.alt, err = parsePair(r.CertAlt, r.KeyAlt); err != nil {
			return &certEntry{err: err}
		}
	}
	return e
}

func parsePair(cert, key string) (*tls.Certificate, error) {
	pair, err := tls.X509KeyPair([]byte(cert), []byte(key))
	if err != nil {
		return nil, errors.New("could not parse PEM certificate: " + err.Error())
	}
	return &pair, nil
}

// Trigger schedules a reload; it never blocks.
func (c *Certificates) Trigger() {
	select {
	case c.trig <- struct{}{}:
	default:
	}
}

// Run reloads on triggers until ctx is done (debounced as the router).
func (c *Certificates) Run(ctx context.Context) {
	RunDebounced(ctx, c.trig, c.Debounce, c.Retry, c.Reload, c.Trigger)
}

// GetCertificate is tls.Config.GetCertificate.
func (c *Certificates) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	e := c.find(strings.ToLower(hello.ServerName))
	if e == nil {
		if c.Default == nil {
			return nil, errors.New("no default certificate")
		}
		return c.Default, nil
	}
	if e.err != nil {
		return nil, e.err
	}
	if e.alt != nil && hello.SupportsCertificate(e.primary) != nil && hello.SupportsCertificate(e.alt) == nil {
		return e.alt, nil
	}
	return e.primary, nil
}

// find is certificate.lua's find_certificate: exact, "*.rest", "name.*",
// "*"; nil for the default.
func (c *Certificates) find(sni string) *certEntry {
	mp := c.cur.Load()
	if sni == "" || mp == nil {
		return nil
	}
	m := *mp
	if e := m[sni]; e != nil {
		return e
	}
	if pref, suf := wildSNIs(sni); pref != "" || suf != "" {
		if e := m[pref]; pref != "" && e != nil {
			return e
		}
		if e := m[suf]; suf != "" && e != nil {
			return e
		}
	}
	return m["*"]
}

// wildSNIs gives the wildcard names Kong looks up for sni (produce_wild_snis):
// "a.b.c" gives "*.b.c" and "a.b.*"; "b.c" gives only "b.*".
func wildSNIs(sni string) (prefix, suffix string) {
	if strings.IndexByte(sni, '*') >= 0 {
		return "", ""
	}
	if i := strings.IndexByte(sni, '.'); i > 0 {
		rest := sni[i:] // ".b.c"
		if j := strings.IndexByte(rest[1:], '.'); j > 0 && j+2 < len(rest) {
			prefix = "*" + rest
		}
	}
	if i := strings.LastIndexByte(sni, '.'); i > 0 && i < len(sni)-1 {
		suffix = sni[:i+1] + "*"
	}
	return prefix, suffix
}

// SelfSignedCertificate makes the default certificate Kong generates when
// ssl_cert is not set (prefix_handler.lua's gen_default_ssl_cert: CN
// localhost, O Kong, 20 years, serverAuth and clientAuth); ECDSA P-256
// only, where Kong also makes an RSA one.
func SelfSignedCertificate() (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	ski := sha1.Sum(pub)
	name := pkix.Name{Country: []string{"US"}, Province: []string{"California"}, Locality: []string{"San Francisco"},
		Organization: []string{"Kong"}, OrganizationalUnit: []string{"IT Department"}, CommonName: "localhost"}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: name, Issuer: name,
		NotBefore: now, NotAfter: now.Add(20 * 365 * 24 * time.Hour),
		BasicConstraintsValid: true, IsCA: false,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		SubjectKeyId: ski[:],
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// ServerTLSConfig is an ssl listener's configuration, the proxy's and the
// Admin API's and status_listen's alike (Kong applies one ssl_protocols to
// all): TLS 1.2 and 1.3 (Kong's ssl_protocols default), Go's cipher suites,
// ALPN http/1.1 (H2TLSConfig offers h2 first on http2 entries), get
// choosing each handshake's certificate.
func ServerTLSConfig(get func(*tls.ClientHelloInfo) (*tls.Certificate, error)) *tls.Config {
	return &tls.Config{
		GetCertificate: get,
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"http/1.1"},
	}
}
