package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/events"
	"github.com/luahost/luahost/kongdb/schema"
	"github.com/luahost/luahost/proxy"
)

// The proxy's lookups of a Service's TLS material (proxy.Config's
// CACertificate and ClientCertificate), read from kongdb: Kong's
// get_ca_certificate_store and get_certificate (kong/runloop/certificate.lua).

// anyWorkspace reads an entity whichever workspace holds it: the proxy
// reaches it by the id a Service holds.
func anyWorkspace() map[string]any { return map[string]any{"workspace": schema.Null} }

// caCertificateLookup returns the PEM of a ca_certificates entity by id.
func caCertificateLookup(db *kongdb.DB) func(id string) ([]byte, error) {
	return func(id string) ([]byte, error) {
		d := db.DAO("ca_certificates")
		if d == nil {
			return nil, errors.New("no ca_certificates DAO")
		}
		row, err := d.Select(context.Background(), map[string]any{"id": id}, nil)
		if err != nil {
			return nil, err
		}
		if row == nil {
			return nil, fmt.Errorf("CA Certificate '%s' does not exist", id)
		}
		cert, _ := row["cert"].(string)
		return []byte(cert), nil
	}
}

// clientCertificateLookup returns a certificates entity by id as a key
// pair.
func clientCertificateLookup(db *kongdb.DB) func(id string) (*tls.Certificate, error) {
	return func(id string) (*tls.Certificate, error) {
		d := db.DAO("certificates")
		if d == nil {
			return nil, errors.New("no certificates DAO")
		}
		row, err := d.Select(context.Background(), map[string]any{"id": id}, anyWorkspace())
		if err != nil {
			return nil, err
		}
		if row == nil {
			return nil, fmt.Errorf("certificate '%s' does not exist", id)
		}
		cert, _ := row["cert"].(string)
		key, _ := row["key"].(string)
		pair, err := tls.X509KeyPair([]byte(cert), []byte(key))
		if err != nil {
			return nil, err
		}
		return &pair, nil
	}
}

// loadSNICerts reads every snis row (all workspaces) with its
// certificate, for the proxy's TLS listeners (Kong's find_certificate
// reads the same through kong.core_cache).
func loadSNICerts(db *kongdb.DB) func(ctx context.Context) ([]proxy.SNICert, error) {
	return func(ctx context.Context) ([]proxy.SNICert, error) {
		snis, certs := db.DAO("snis"), db.DAO("certificates")
		if snis == nil || certs == nil {
			return nil, errors.New("no snis or certificates DAO")
		}
		it, err := snis.Each(ctx, 1000, anyWorkspace())
		if err != nil {
			return nil, err
		}
		var out []proxy.SNICert
		byID := map[string]map[string]any{}
		for row, err := range it {
			if err != nil {
				return nil, err
			}
			name, _ := row["name"].(string)
			ref, _ := row["certificate"].(map[string]any)
			id, _ := ref["id"].(string)
			sc := proxy.SNICert{Name: name, CertificateID: id}
			cert, ok := byID[id]
			if !ok {
				if cert, err = certs.Select(ctx, map[string]any{"id": id}, anyWorkspace()); err != nil {
					return nil, fmt.Errorf("failed to fetch certificate for '%s' SNI: %w", name, err)
				}
				byID[id] = cert
			}
			if cert == nil {
				sc.LoadErr = fmt.Errorf("no SSL certificate configured for sni: %s", name)
			} else {
				sc.Cert, _ = cert["cert"].(string)
				sc.Key, _ = cert["key"].(string)
				sc.CertAlt, _ = cert["cert_alt"].(string)
				sc.KeyAlt, _ = cert["key_alt"].(string)
			}
			out = append(out, sc)
		}
		return out, nil
	}
}

// defaultCertificate is the proxy's default certificate: kong.conf's
// first ssl_cert/ssl_cert_key pair, or the one generated at start.
func defaultCertificate(c *conf.Config) (*tls.Certificate, error) {
	certs, err := sslCertificates(c, "")
	if err != nil {
		return nil, err
	}
	return &certs[0], nil
}

// sslCertificates are the certificates of a listener kind's ssl entries:
// kong.conf's <prefix>ssl_cert/<prefix>ssl_cert_key ("" for proxy_listen,
// "admin_", "status_"), pairs in order, each value a file's path, PEM text
// or base64 of it, checked with Kong's messages
// (kong/conf_loader/parse.lua); both unset, one generated at start, as
// Kong's prefix handler makes one per kind (gen_default_ssl_cert).
func sslCertificates(c *conf.Config, prefix string) ([]tls.Certificate, error) {
	certs, keys := c.List(prefix+"ssl_cert"), c.List(prefix+"ssl_cert_key")
	switch {
	case len(certs) == 0 && len(keys) == 0:
		def, err := proxy.SelfSignedCertificate()
		if err != nil {
			return nil, fmt.Errorf("%sssl_cert: could not generate the default certificate: %w", prefix, err)
		}
		return []tls.Certificate{*def}, nil
	case len(keys) == 0:
		return nil, errors.New(prefix + "ssl_cert_key must be specified")
	case len(certs) == 0:
		return nil, errors.New(prefix + "ssl_cert must be specified")
	case len(certs) != len(keys):
		return nil, fmt.Errorf("%sssl_cert was specified %d times while %sssl_cert_key was specified %d times",
			prefix, len(certs), prefix, len(keys))
	}
	out := make([]tls.Certificate, 0, len(certs))
	for i := range certs {
		certPEM, err := pemValue(certs[i])
		if err == nil {
			err = checkCertificatePEM(certPEM)
		}
		if err != nil {
			return nil, fmt.Errorf("%sssl_cert: failed loading certificate from %s: %v", prefix, shownValue(certs[i]), err)
		}
		keyPEM, err := pemValue(keys[i])
		var pair tls.Certificate
		if err == nil {
			pair, err = tls.X509KeyPair(certPEM, keyPEM)
		}
		if err != nil {
			return nil, fmt.Errorf("%sssl_cert_key: failed loading key from %s: %v", prefix, shownValue(keys[i]), err)
		}
		out = append(out, pair)
	}
	return out, nil
}

// pemValue is a certificate or key setting's PEM: the file it names, else
// the value itself, or base64 of it (Kong's try_decode_base64).
func pemValue(v string) ([]byte, error) {
	if st, err := os.Stat(v); err == nil && !st.IsDir() {
		return os.ReadFile(v)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil && bytes.Contains(b, []byte("-----BEGIN")) {
			return b, nil
		}
	}
	if !strings.Contains(v, "-----BEGIN") {
		return nil, errors.New("no such file, and not PEM text")
	}
	return []byte(v), nil
}

// checkCertificatePEM tells whether pem holds a certificate that parses
// (tls.X509KeyPair's errors would not say which of the pair is wrong).
func checkCertificatePEM(b []byte) error {
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return errors.New("no PEM certificate in it")
		}
		if block.Type == "CERTIFICATE" {
			_, err := x509.ParseCertificate(block.Bytes)
			return err
		}
	}
}

// shownValue is a setting's value as an error shows it: PEM text or its
// base64 (a key, maybe) is not echoed.
func shownValue(v string) string {
	if strings.Contains(v, "-----") || len(v) > 200 {
		return "the value given"
	}
	return v
}

// watchCertificates reloads the proxy's certificates on this node's snis
// and certificates CRUD events and on other nodes' invalidations of their
// cache keys ("snis:<name>", "certificates:<id>..."), as watchRouter does
// for the router.
func watchCertificates(h *host.Host, certs *proxy.Certificates) func() {
	var stops []func()
	if bus := h.Root.Events; bus != nil {
		id := bus.Register(func(ev events.Event) error {
			if strings.HasPrefix(ev.Event, "snis") || strings.HasPrefix(ev.Event, "certificates") {
				certs.Trigger()
			}
			return nil
		}, "crud")
		stops = append(stops, func() { bus.Unregister(id) })
	}
	if cc := h.Root.CoreCache; cc != nil {
		stops = append(stops, cc.OnInvalidate(func(key string) {
			if strings.HasPrefix(key, "snis:") || strings.HasPrefix(key, "certificates:") {
				certs.Trigger()
			}
		}))
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}
