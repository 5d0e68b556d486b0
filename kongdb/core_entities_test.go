package kongdb_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/luahost/luahost/kongdb"
)

// testCert makes a self-signed certificate (PEM) and its key; isCA sets the
// CA basic constraint, notAfter its expiry.
func testCert(t testing.TB, cn string, isCA bool, notAfter time.Time) (certPEM, keyPEM string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: notAfter.Add(-48 * time.Hour), NotAfter: notAfter,
		BasicConstraintsValid: true, IsCA: isCA, DNSNames: []string{cn},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
}

// schemaErrs returns the field errors of a schema violation.
func schemaErrs(t testing.TB, err error) map[string]any {
	t.Helper()
	e, ok := kongdb.AsError(err)
	if !ok || e.Code != kongdb.SchemaViolation {
		t.Fatalf("want a schema violation, got %v", err)
	}
	m, _ := e.Fields.(map[string]any)
	return m
}

var bg = context.Background()

func TestCoreEntitiesScratch(t *testing.T) {
	each(t, func(t *testing.T, db *kongdb.DB) {
		_, err := db.DAO("snis").Insert(bg, M{"name": "*.example.*"}, nil)
		t.Logf("%v", err)
		_, err = db.DAO("upstreams").Insert(bg, M{"name": "1.2.3.4", "hash_on": "header", "slots": 5}, nil)
		t.Logf("%v", err)
		u, err := db.DAO("upstreams").Insert(bg, M{"name": "u1"}, nil)
		t.Logf("%v %v", u, err)
		tg, err := db.DAO("targets").Insert(bg, M{"target": "::1", "upstream": M{"id": u["id"]}}, nil)
		t.Logf("%v %v", tg, err)
		_, err = db.DAO("targets").Insert(bg, M{"target": "[::1]:8000", "upstream": M{"id": u["id"]}}, nil)
		t.Logf("%v", err)
		_, err = db.DAO("targets").Insert(bg, M{"target": "bad target", "weight": 70000, "upstream": M{"id": u["id"]}}, nil)
		t.Logf("%v", err)
		c, _ := testCert(t, "ca.test", false, time.Now().Add(time.Hour))
		_, err = db.DAO("ca_certificates").Insert(bg, M{"cert": c}, nil)
		t.Logf("%v", err)
		c, _ = testCert(t, "ca.test", true, time.Now().Add(time.Hour))
		ca, err := db.DAO("ca_certificates").Insert(bg, M{"cert": c}, nil)
		t.Logf("%v %v", ca, err)
		_, err = db.DAO("ca_certificates").Insert(bg, M{"cert": c}, nil)
		t.Logf("%v", err)
		_ = sha256.Sum256
		_ = hex.EncodeToString
	})
}
