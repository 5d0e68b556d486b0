package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
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
