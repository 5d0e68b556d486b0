package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/host/hosttest"
	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/kongdbtest"
	"github.com/luahost/luahost/kongdb/migrations/migrationstest"
)

func init() { kongdbtest.RegisterStrategy("postgres", migrationstest.Connector) }

func TestCertificateLookups(t *testing.T) {
	kongdbtest.Each(t, func(t *testing.T, db *kongdb.DB) {
		ctx := context.Background()
		ca, _ := kongdbtest.Cert(t, "ca.test", true, time.Now().Add(24*time.Hour))
		caRow, err := db.DAO("ca_certificates").Insert(ctx, map[string]any{"cert": ca}, nil)
		if err != nil {
			t.Fatal(err)
		}
		c, k := kongdbtest.Cert(t, "client.test", false, time.Now().Add(24*time.Hour))
		certRow, err := db.DAO("certificates").Insert(ctx, map[string]any{"cert": c, "key": k}, nil)
		if err != nil {
			t.Fatal(err)
		}

		getCA := caCertificateLookup(db)
		got, err := getCA(caRow["id"].(string))
		if err != nil || !bytes.Equal(got, []byte(ca)) {
			t.Fatalf("CA lookup: %q %v", got, err)
		}
		missing := "6b2b1ac4-9f8e-4f61-9dc5-5a9c4c9f6a11"
		if _, err := getCA(missing); err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Fatalf("missing CA: %v", err)
		}

		getCert := clientCertificateLookup(db)
		pair, err := getCert(certRow["id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		blk, _ := pem.Decode([]byte(c))
		leaf, err := x509.ParseCertificate(pair.Certificate[0])
		if err != nil || !bytes.Equal(leaf.Raw, blk.Bytes) || pair.PrivateKey == nil {
			t.Fatalf("client certificate: %v %v", leaf, err)
		}
		if _, err := getCert(missing); err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Fatalf("missing certificate: %v", err)
		}
	})
}

// proxyConfig hands the proxy the lookups over the host's DB.
func TestProxyConfigCertificateLookups(t *testing.T) {
	newConf := func() *conf.Config {
		c := conf.New()
		c.Set("plugins", "off", "test")
		return c
	}
	hosttest.EachStrategy(t, newConf, func(t *testing.T, h *host.Host) {
		pc, err := proxyConfig(newConf(), h)
		if err != nil {
			t.Fatal(err)
		}
		if pc.CACertificate == nil || pc.ClientCertificate == nil {
			t.Fatal("proxy.Config has no certificate lookups")
		}
		ca, _ := kongdbtest.Cert(t, "ca.test", true, time.Now().Add(24*time.Hour))
		row, err := h.Root.DB.DAO("ca_certificates").Insert(context.Background(), map[string]any{"cert": ca}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := pc.CACertificate(row["id"].(string)); err != nil || string(got) != ca {
			t.Fatalf("CA lookup through proxy.Config: %q %v", got, err)
		}
	})
}
