package spechelpers

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

func parseChain(t *testing.T, s string) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	rest := []byte(s)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		t.Fatalf("no certificate in %q", s)
	}
	return out
}

// Kong's keys, each pair matching, with the names, signers, algorithms
// and key encodings Kong's specs rely on; valid for years; made once.
func TestSSLFixtures(t *testing.T) {
	set, err := SSLFixtures()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := SSLFixtures()
	if again["cert"] != set["cert"] {
		t.Error("a second call made new certificates")
	}
	pairs := []struct {
		cert, key, cn, keyPEM string
		ec, ca                bool
	}{
		{"cert", "key", "ssl-example.com", "RSA PRIVATE KEY", false, false},
		{"cert_ecdsa", "key_ecdsa", "ssl-example.com", "EC PRIVATE KEY", true, true},
		{"cert_alt", "key_alt", "ssl-alt.com", "RSA PRIVATE KEY", false, false},
		{"cert_alt_ecdsa", "key_alt_ecdsa", "ssl-example.com", "EC PRIVATE KEY", true, true},
		{"cert_alt_alt", "key_alt_alt", "ssl-alt-alt.com", "PRIVATE KEY", false, true},
		{"cert_alt_alt_ecdsa", "key_alt_alt_ecdsa", "ssl-alt-alt.com", "EC PRIVATE KEY", true, true},
		{"cert_client", "key_client", "foo@example.com", "RSA PRIVATE KEY", false, false},
		{"cert_client2", "key_client2", "example2.com", "RSA PRIVATE KEY", false, false},
		{"cert_ca", "key_ca", "Kong Testing Root CA", "RSA PRIVATE KEY", false, true},
	}
	soon := time.Now().AddDate(5, 0, 0)
	for _, p := range pairs {
		if strings.HasSuffix(set[p.cert], "\n") || !strings.HasPrefix(set[p.key], "-----BEGIN "+p.keyPEM+"-----") {
			t.Errorf("%s/%s: PEM framing %q", p.cert, p.key, set[p.key][:30])
		}
		if _, err := tls.X509KeyPair([]byte(set[p.cert]), []byte(set[p.key])); err != nil {
			t.Errorf("%s/%s: %v", p.cert, p.key, err)
		}
		c := parseChain(t, set[p.cert])[0]
		if c.Subject.CommonName != p.cn {
			t.Errorf("%s: CN %q, want %q", p.cert, c.Subject.CommonName, p.cn)
		}
		if _, isEC := c.PublicKey.(*ecdsa.PublicKey); isEC != p.ec {
			t.Errorf("%s: ECDSA %v, want %v", p.cert, isEC, p.ec)
		}
		if _, isRSA := c.PublicKey.(*rsa.PublicKey); isRSA == p.ec {
			t.Errorf("%s: RSA %v", p.cert, isRSA)
		}
		if c.IsCA != p.ca {
			t.Errorf("%s: CA %v, want %v", p.cert, c.IsCA, p.ca)
		}
		if c.NotAfter.Before(soon) || c.NotBefore.After(time.Now()) {
			t.Errorf("%s: valid %v to %v", p.cert, c.NotBefore, c.NotAfter)
		}
		if p.cn != "foo@example.com" && !strings.HasPrefix(p.cn, "Kong") {
			if err := c.VerifyHostname(p.cn); err != nil {
				t.Errorf("%s: %v", p.cert, err)
			}
		}
	}

	roots := x509.NewCertPool()
	roots.AddCert(parseChain(t, set["cert_ca"])[0])
	// cert_client: leaf + intermediate, verified up to cert_ca for clients
	chain := parseChain(t, set["cert_client"])
	if len(chain) != 2 || chain[1].Subject.CommonName != "Kong Testing Intermidiate CA" || !chain[1].IsCA {
		t.Fatalf("cert_client chain: %d certificates", len(chain))
	}
	if err := chain[0].CheckSignatureFrom(chain[1]); err != nil {
		t.Errorf("cert_client not signed by the intermediate: %v", err)
	}
	inter := x509.NewCertPool()
	inter.AddCert(chain[1])
	if _, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("cert_client: %v", err)
	}
	if got := strings.Join(chain[0].EmailAddresses, ","); got != "foo@example.com,bar@example.com" {
		t.Errorf("cert_client emails %q", got)
	}
	c2 := parseChain(t, set["cert_client2"])[0]
	if _, err := c2.Verify(x509.VerifyOptions{Roots: roots, DNSName: "example2.com",
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("cert_client2: %v", err)
	}
	// the others are not signed by the CA
	if _, err := parseChain(t, set["cert"])[0].Verify(x509.VerifyOptions{Roots: roots}); err == nil {
		t.Error("cert verified by cert_ca")
	}

	b, _ := pem.Decode([]byte(set["dhparam"]))
	var dh struct{ P, G *big.Int }
	if b == nil || b.Type != "DH PARAMETERS" {
		t.Fatalf("dhparam %q", set["dhparam"])
	}
	if _, err := asn1.Unmarshal(b.Bytes, &dh); err != nil {
		t.Fatal(err)
	}
	q := new(big.Int).Rsh(dh.P, 1)
	if dh.P.BitLen() != 2048 || dh.G.Int64() != 2 || !dh.P.ProbablyPrime(8) || !q.ProbablyPrime(8) {
		t.Errorf("dhparam: not a safe 2048-bit prime group")
	}
	// RFC 7919's ffdhe2048 ends ...886B4238 61285C97 FFFFFFFF FFFFFFFF
	if hex := dh.P.Text(16); !strings.HasPrefix(hex, "ffffffffffffffffadf85458a2bb4a9a") ||
		!strings.HasSuffix(hex, "886b423861285c97ffffffffffffffff") {
		t.Errorf("dhparam p = %s", hex)
	}
}
