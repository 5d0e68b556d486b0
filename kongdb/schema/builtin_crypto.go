package schema

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
)

// Key material validators of Kong's typedefs. Kong parses
// keys and certificates with OpenSSL (lua-resty-openssl); Go's crypto/x509
// stands in, so the part of a message after Kong's prefix ("invalid
// certificate: ", "invalid key: ") is Go's wording.

// pemOrDER returns the DER bytes of the first PEM block of s, or s itself
// when it holds no PEM block (OpenSSL reads both).
func pemOrDER(s string) []byte {
	if blk, _ := pem.Decode([]byte(s)); blk != nil {
		return blk.Bytes
	}
	return []byte(s)
}

func validCertificate(s string) (bool, string) {
	if _, err := x509.ParseCertificate(pemOrDER(s)); err != nil {
		return false, "invalid certificate: x509.new: " + err.Error()
	}
	return true, ""
}

// parsePrivateKey reads a PKCS#8, PKCS#1 or SEC 1 private key.
func parsePrivateKey(der []byte) (crypto.Signer, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("failed to parse private key")
}

// parsePublicKey reads a PKIX or PKCS#1 public key.
func parsePublicKey(der []byte) (crypto.PublicKey, error) {
	if k, err := x509.ParsePKIXPublicKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PublicKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("failed to parse public key")
}

func validKey(s string) (bool, string) {
	der := pemOrDER(s)
	if _, err := parsePrivateKey(der); err == nil {
		return true, ""
	}
	if _, err := parsePublicKey(der); err == nil {
		return true, ""
	}
	return false, "invalid key: pkey.new:load_key: failed to parse key"
}

func samePublicKey(a, b crypto.PublicKey) bool {
	ea, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	if ok {
		return ea.Equal(b)
	}
	da, err1 := x509.MarshalPKIXPublicKey(a)
	db, err2 := x509.MarshalPKIXPublicKey(b)
	return err1 == nil && err2 == nil && bytes.Equal(da, db)
}

// validPEMKeys checks typedefs.pem: each key given must load, and a pair
// must match. Vault references are not checked.
func validPEMKeys(v any) (bool, string) {
	m, ok := v.(map[string]any)
	if !ok {
		return true, ""
	}
	pub, _ := m["public_key"].(string)
	priv, _ := m["private_key"].(string)
	if IsReference(pub) || IsReference(priv) {
		return true, ""
	}
	var pubKey crypto.PublicKey
	var privKey crypto.Signer
	if pub != "" {
		blk, _ := pem.Decode([]byte(pub))
		if blk == nil {
			return false, "could not load public key"
		}
		k, err := parsePublicKey(blk.Bytes)
		if err != nil {
			return false, "could not load public key"
		}
		pubKey = k
	}
	if priv != "" {
		blk, _ := pem.Decode([]byte(priv))
		if blk == nil {
			return false, "could not load private keypkey.new:load_key: failed to parse private key"
		}
		k, err := parsePrivateKey(blk.Bytes)
		if err != nil {
			return false, "could not load private keypkey.new:load_key: " + err.Error()
		}
		privKey = k
	}
	if pubKey != nil && privKey != nil && !samePublicKey(privKey.Public(), pubKey) {
		return false, "public key does not match private key"
	}
	return true, ""
}

// validJWK checks typedefs.jwk. Kong hands the whole record to OpenSSL's
// pkey.new, which treats a table as key-generation options and succeeds;
// any record therefore passes, as in Kong.
func validJWK(v any) (bool, string) { return true, "" }
