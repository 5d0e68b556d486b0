package restyopenssl

import (
	"crypto/rand"
	"encoding/asn1"
	"errors"

	"github.com/cloudflare/circl/sign/ed448"
)

// Ed448 keys (RFC 8410), which OpenSSL loads and Go's crypto/x509 does
// not: a PKIX "PUBLIC KEY" or PKCS#8 "PRIVATE KEY" whose algorithm is
// id-Ed448 (1.3.101.113), with no parameters. The signature scheme is
// circl's; the DER in and out is written here.

var oidEd448 = asn1.ObjectIdentifier{1, 3, 101, 113}

type ed448AlgorithmIdentifier struct {
	Algorithm asn1.ObjectIdentifier
}

type ed448SPKI struct {
	Algorithm ed448AlgorithmIdentifier
	PublicKey asn1.BitString
}

type ed448PKCS8 struct {
	Version    int
	Algorithm  ed448AlgorithmIdentifier
	PrivateKey []byte
	// optional attributes and public key ([0], [1]) are ignored
	Rest asn1.RawContent `asn1:"optional"`
}

// parseEd448 reads DER as an Ed448 public (SPKI) or private (PKCS#8) key;
// ok is false when it is neither.
func parseEd448(der []byte) (*pkey, bool) {
	var spki ed448SPKI
	if rest, err := asn1.Unmarshal(der, &spki); err == nil && len(rest) == 0 &&
		spki.Algorithm.Algorithm.Equal(oidEd448) {
		if spki.PublicKey.BitLength != 8*ed448.PublicKeySize {
			return nil, false
		}
		return &pkey{pub: ed448.PublicKey(spki.PublicKey.Bytes)}, true
	}
	var p8 ed448PKCS8
	if rest, err := asn1.Unmarshal(der, &p8); err == nil && len(rest) == 0 &&
		p8.Algorithm.Algorithm.Equal(oidEd448) {
		// the privateKey OCTET STRING wraps CurvePrivateKey, itself an
		// OCTET STRING holding the seed
		var seed []byte
		if rest, err := asn1.Unmarshal(p8.PrivateKey, &seed); err != nil || len(rest) != 0 ||
			len(seed) != ed448.SeedSize {
			return nil, false
		}
		k := ed448.NewKeyFromSeed(seed)
		return &pkey{pub: k.Public(), priv: k}, true
	}
	return nil, false
}

func generateEd448() (*pkey, error) {
	pub, priv, err := ed448.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return &pkey{pub: pub, priv: priv}, nil
}

// marshalEd448 is the DER of an Ed448 key: PKCS#8 for a private one,
// SPKI for a public one.
func marshalEd448(k *pkey, private bool) ([]byte, error) {
	alg := ed448AlgorithmIdentifier{Algorithm: oidEd448}
	if private {
		priv, ok := k.priv.(ed448.PrivateKey)
		if !ok {
			return nil, errors.New("pkey:to_PEM: key is not a private key")
		}
		inner, err := asn1.Marshal(priv.Seed())
		if err != nil {
			return nil, err
		}
		return asn1.Marshal(ed448PKCS8{Algorithm: alg, PrivateKey: inner})
	}
	pub := k.pub.(ed448.PublicKey)
	return asn1.Marshal(ed448SPKI{Algorithm: alg, PublicKey: asn1.BitString{Bytes: pub, BitLength: 8 * len(pub)}})
}
