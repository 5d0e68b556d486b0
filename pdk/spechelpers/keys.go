package spechelpers

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// GenerateKeys is Kong's helpers.generate_keys(fmt, typ): a new RSA (2048
// bits, e 65537) or EC (P-256) key pair as public and private text, in
// fmt "JWK" or "PEM" (PKIX public, PKCS#8 private, as OpenSSL writes
// them). typ is "RSA" or "EC" (any case).
func GenerateKeys(format, typ string) (pub, priv string, err error) {
	format, typ = strings.ToUpper(format), strings.ToUpper(typ)
	if format != "JWK" && format != "PEM" {
		return "", "", fmt.Errorf("unsupported format %q (JWK or PEM)", format)
	}
	var key any
	switch typ {
	case "RSA":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case "EC":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return "", "", fmt.Errorf("unsupported key type")
	}
	if err != nil {
		return "", "", err
	}
	if format == "PEM" {
		return pemKeys(key)
	}
	return jwkKeys(key)
}

func pemKeys(key any) (string, string, error) {
	var pubKey any
	switch k := key.(type) {
	case *rsa.PrivateKey:
		pubKey = &k.PublicKey
	case *ecdsa.PrivateKey:
		pubKey = &k.PublicKey
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pubKey)
	if err != nil {
		return "", "", err
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})), nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func jwkKeys(key any) (string, string, error) {
	pub, priv := map[string]string{}, map[string]string{}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		k.Precompute()
		pub["kty"], pub["n"], pub["e"] = "RSA", b64(k.N.Bytes()), b64(big.NewInt(int64(k.E)).Bytes())
		for n, v := range pub {
			priv[n] = v
		}
		priv["d"] = b64(k.D.Bytes())
		priv["p"], priv["q"] = b64(k.Primes[0].Bytes()), b64(k.Primes[1].Bytes())
		priv["dp"], priv["dq"] = b64(k.Precomputed.Dp.Bytes()), b64(k.Precomputed.Dq.Bytes())
		priv["qi"] = b64(k.Precomputed.Qinv.Bytes())
	case *ecdsa.PrivateKey:
		ecdh, err := k.ECDH()
		if err != nil {
			return "", "", err
		}
		raw := ecdh.PublicKey().Bytes() // 0x04 || X || Y
		size := (len(raw) - 1) / 2
		pub["kty"], pub["crv"] = "EC", "P-256"
		pub["x"], pub["y"] = b64(raw[1:1+size]), b64(raw[1+size:])
		for n, v := range pub {
			priv[n] = v
		}
		priv["d"] = b64(ecdh.Bytes())
	}
	pb, _ := json.Marshal(pub)
	sb, _ := json.Marshal(priv)
	return string(pb), string(sb), nil
}

// generateKeys binds GenerateKeys: generate_keys(fmt, typ) -> pub, priv |
// nil, err.
func generateKeys(L *lua.LState) int {
	pub, priv, err := GenerateKeys(L.OptString(1, "JWK"), L.OptString(2, "RSA"))
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	L.Push(lua.LString(pub))
	L.Push(lua.LString(priv))
	return 2
}
