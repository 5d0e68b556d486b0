package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
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

// defaultCertificate is kong.conf's ssl_cert/ssl_cert_key (the first
// pair), or the certificate Kong generates when they are not set.
func defaultCertificate(c *conf.Config) (*tls.Certificate, error) {
	certs, keys := c.List("ssl_cert"), c.List("ssl_cert_key")
	if len(certs) == 0 && len(keys) == 0 {
		return proxy.SelfSignedCertificate()
	}
	if len(certs) == 0 || len(keys) == 0 {
		return nil, errors.New("ssl_cert and ssl_cert_key must both be specified")
	}
	pair, err := tls.LoadX509KeyPair(certs[0], keys[0])
	if err != nil {
		return nil, fmt.Errorf("ssl_cert: %w", err)
	}
	return &pair, nil
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
