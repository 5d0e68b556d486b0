package kongdbtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"
)

// Cert makes a self-signed ECDSA certificate for cn and its PKCS#8 key, both
// PEM: isCA sets the CA basic constraint, notAfter the expiry (the
// certificate is valid from two days before). For certificates, snis and
// ca_certificates tests, without fixtures that expire.
func Cert(t testing.TB, cn string, isCA bool, notAfter time.Time) (certPEM, keyPEM string) {
	t.Helper()
	c := Issue(t, cn, isCA, nil, func(tpl *x509.Certificate) {
		tpl.Subject = pkix.Name{CommonName: cn}
		tpl.NotBefore, tpl.NotAfter = notAfter.Add(-48*time.Hour), notAfter
		tpl.DNSNames = []string{cn}
		tpl.KeyUsage = 0
	})
	kder, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		t.Fatal(err)
	}
	return c.PEM, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
}

// Issued is a certificate made by Issue, with its key.
type Issued struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
	PEM  string // the certificate
}

// TLS is the certificate with its key as crypto/tls presents it, followed
// by chain (the intermediates a client or server sends after it).
func (i *Issued) TLS(chain ...*Issued) tls.Certificate {
	c := tls.Certificate{Certificate: [][]byte{i.Cert.Raw}, PrivateKey: i.Key, Leaf: i.Cert}
	for _, o := range chain {
		c.Certificate = append(c.Certificate, o.Cert.Raw)
	}
	return c
}

// Issue makes an ECDSA certificate for cn signed by parent (nil:
// self-signed), valid from an hour ago for a day; isCA sets the CA basic
// constraint; edit, when set, changes the template before signing (dates,
// key usages). For TLS tests that build a small PKI (root, intermediate,
// client certificates).
func Issue(t testing.TB, cn string, isCA bool, parent *Issued, edit func(*x509.Certificate)) *Issued {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn, Organization: []string{"Kong Testing"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		BasicConstraintsValid: true, IsCA: isCA,
	}
	if isCA {
		tpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	}
	if edit != nil {
		edit(tpl)
	}
	signer, signerKey := tpl, k
	if parent != nil {
		signer, signerKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, signer, &k.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &Issued{Cert: c, Key: k, PEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}
