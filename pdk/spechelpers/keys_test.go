package spechelpers

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"testing"
)

func TestGenerateKeysPEM(t *testing.T) {
	for _, typ := range []string{"RSA", "ec"} {
		pub, priv, err := GenerateKeys("pem", typ)
		if err != nil {
			t.Fatal(err)
		}
		pb, _ := pem.Decode([]byte(pub))
		sb, _ := pem.Decode([]byte(priv))
		if pb == nil || sb == nil || pb.Type != "PUBLIC KEY" || sb.Type != "PRIVATE KEY" {
			t.Fatalf("%s: %q %q", typ, pub, priv)
		}
		pk, err := x509.ParsePKIXPublicKey(pb.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		sk, err := x509.ParsePKCS8PrivateKey(sb.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		switch k := sk.(type) {
		case *rsa.PrivateKey:
			if !k.PublicKey.Equal(pk) || k.N.BitLen() != 2048 || k.E != 65537 {
				t.Fatalf("RSA pair does not match or is not 2048/65537")
			}
		case *ecdsa.PrivateKey:
			if !k.PublicKey.Equal(pk) || k.Curve.Params().Name != "P-256" {
				t.Fatalf("EC pair does not match or is not P-256")
			}
		}
	}
	if _, _, err := GenerateKeys("PEM", "DSA"); err == nil || err.Error() != "unsupported key type" {
		t.Fatalf("DSA: %v", err)
	}
}

// The JWK private key's members make the key again (n = p*q, d*e = 1 mod
// lcm), and the public one has only kty, n and e.
func TestGenerateKeysJWK(t *testing.T) {
	pub, priv, err := GenerateKeys("JWK", "RSA")
	if err != nil {
		t.Fatal(err)
	}
	var p, s map[string]string
	if err := json.Unmarshal([]byte(pub), &p); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(priv), &s); err != nil {
		t.Fatal(err)
	}
	num := func(v string) *big.Int {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil {
			t.Fatal(err)
		}
		return new(big.Int).SetBytes(b)
	}
	if len(p) != 3 || p["kty"] != "RSA" || p["e"] != "AQAB" || s["n"] != p["n"] {
		t.Fatalf("public %v", p)
	}
	if new(big.Int).Mul(num(s["p"]), num(s["q"])).Cmp(num(p["n"])) != 0 {
		t.Fatal("p*q != n")
	}
	one := big.NewInt(1)
	pm1, qm1 := new(big.Int).Sub(num(s["p"]), one), new(big.Int).Sub(num(s["q"]), one)
	if new(big.Int).Mod(new(big.Int).Mul(num(s["d"]), big.NewInt(65537)), pm1).Cmp(one) != 0 ||
		new(big.Int).Mod(num(s["d"]), pm1).Cmp(num(s["dp"])) != 0 ||
		new(big.Int).Mod(num(s["d"]), qm1).Cmp(num(s["dq"])) != 0 {
		t.Fatal("d, dp, dq do not fit")
	}
	pub, priv, err = GenerateKeys("JWK", "EC")
	if err != nil {
		t.Fatal(err)
	}
	p, s = nil, nil
	json.Unmarshal([]byte(pub), &p)
	json.Unmarshal([]byte(priv), &s)
	if p["kty"] != "EC" || p["crv"] != "P-256" || len(num(p["x"]).Bytes()) > 32 || s["x"] != p["x"] || s["d"] == "" || p["d"] != "" {
		t.Fatalf("EC %v %v", p, s)
	}
}
