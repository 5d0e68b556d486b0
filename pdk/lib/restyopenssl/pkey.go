package restyopenssl

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/cloudflare/circl/sign/ed448"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"
)

// resty.openssl.pkey (lua-resty-openssl), Go-backed for RSA, EC (P-256,
// P-384, P-521), Ed25519 and Ed448 keys:
//   new(pem_or_der) / new({ type = "RSA", bits = 2048 } | { type = "EC",
//     curve = "prime256v1" } | { type = "Ed25519" } | { type = "Ed448" }) /
//     new() (RSA 2048)
//     -> key, or nil and "pkey.new: ..." ;
//   key:sign(data_or_digest, md_alg, padding, { ecdsa_use_raw = bool })
//   key:verify(sig, data_or_digest, md_alg, padding, opts) -> true / false,
//     or nil and an error;
//   key:to_PEM(["public"|"private"]), key:is_private(), key:get_key_type()
//     -> { sn = "rsaEncryption" | "id-ecPublicKey" | "ED25519" | "ED448" };
//   PADDINGS (OpenSSL's RSA_*_PADDING numbers).
// A digest object from resty.openssl.digest is signed as its current sum.
// Not covered: encrypt/decrypt, derive, get_parameters, JWK input.

const opensslPkeyType = "luahost.resty.openssl.pkey"

const rsaPKCS1PSSPadding = 6

type pkey struct {
	pub  crypto.PublicKey
	priv crypto.Signer // nil for a public key
}

func parsePkey(data []byte) (*pkey, error) {
	der := data
	if b, _ := pem.Decode(data); b != nil {
		der = b.Bytes
	}
	if k, err := x509.ParsePKIXPublicKey(der); err == nil {
		return &pkey{pub: k}, nil
	}
	if k, err := x509.ParsePKCS1PublicKey(der); err == nil {
		return &pkey{pub: k}, nil
	}
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return &pkey{pub: s.Public(), priv: s}, nil
		}
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return &pkey{pub: k.Public(), priv: k}, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return &pkey{pub: k.Public(), priv: k}, nil
	}
	if c, err := x509.ParseCertificate(der); err == nil {
		return &pkey{pub: c.PublicKey}, nil
	}
	if k, ok := parseEd448(der); ok {
		return k, nil
	}
	return nil, errors.New("pkey.new:load_key: failed to load key (unsupported or malformed key)")
}

func generatePkey(ctx context.Context, typ string, bits int, curve string) (*pkey, error) {
	switch strings.ToUpper(typ) {
	case "", "RSA":
		if bits == 0 {
			bits = 2048
		}
		if bits > maxRSABits {
			// OpenSSL's OPENSSL_RSA_MAX_MODULUS_BITS
			return nil, fmt.Errorf("pkey.new: EVP_PKEY_keygen() failed: modulus too large (%d bits, at most %d)", bits, maxRSABits)
		}
		k, err := generateRSA(ctx, bits)
		if err != nil {
			return nil, err
		}
		return &pkey{pub: k.Public(), priv: k}, nil
	case "EC":
		var c elliptic.Curve
		switch strings.ToLower(curve) {
		case "", "prime256v1", "p-256", "secp256r1":
			c = elliptic.P256()
		case "secp384r1", "p-384":
			c = elliptic.P384()
		case "secp521r1", "p-521":
			c = elliptic.P521()
		default:
			return nil, fmt.Errorf("pkey.new: unsupported curve %q", curve)
		}
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			return nil, err
		}
		return &pkey{pub: k.Public(), priv: k}, nil
	case "ED25519":
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		return &pkey{pub: pub, priv: priv}, nil
	case "ED448":
		return generateEd448()
	}
	return nil, fmt.Errorf("pkey.new: unsupported key type %q", typ)
}

// digestInput resolves the data argument: a resty.openssl.digest object
// gives its sum and hash; a string is hashed with md_alg (default sha256).
func digestInput(L *lua.LState, v lua.LValue, mdAlg string) ([]byte, crypto.Hash, []byte, error) {
	if ud, ok := v.(*lua.LUserData); ok {
		if h, ok := ud.Value.(*opensslHash); ok {
			return h.h.Sum(nil), h.hash, nil, nil
		}
	}
	s, ok := v.(lua.LString)
	if !ok {
		return nil, 0, nil, fmt.Errorf("expected a string or a digest, got %s", v.Type())
	}
	if mdAlg == "" {
		mdAlg = "sha256"
	}
	a, ok := opensslAlgs[canonicalAlg(mdAlg)]
	if !ok {
		return nil, 0, nil, fmt.Errorf("invalid digest type %q", mdAlg)
	}
	h := a.newf()
	h.Write([]byte(s))
	return h.Sum(nil), a.hash, []byte(s), nil
}

func ecdsaRawSize(pub *ecdsa.PublicKey) int { return (pub.Curve.Params().BitSize + 7) / 8 }

func (k *pkey) sign(L *lua.LState) ([]byte, error) {
	if k.priv == nil {
		return nil, errors.New("pkey:sign: key is not a private key")
	}
	opts, _ := L.Get(5).(*lua.LTable)
	raw := opts != nil && lua.LVAsBool(opts.RawGetString("ecdsa_use_raw"))
	if edk, ok := k.priv.(ed25519.PrivateKey); ok {
		s, ok := L.Get(2).(lua.LString)
		if !ok {
			return nil, errors.New("pkey:sign: Ed25519 signs a string")
		}
		return ed25519.Sign(edk, []byte(s)), nil
	}
	if edk, ok := k.priv.(ed448.PrivateKey); ok {
		s, ok := L.Get(2).(lua.LString)
		if !ok {
			return nil, errors.New("pkey:sign: Ed448 signs a string")
		}
		return ed448.Sign(edk, []byte(s), ""), nil
	}
	sum, h, _, err := digestInput(L, L.Get(2), L.OptString(3, ""))
	if err != nil {
		return nil, errors.New("pkey:sign: " + err.Error())
	}
	switch key := k.priv.(type) {
	case *rsa.PrivateKey:
		if L.OptInt(4, 0) == rsaPKCS1PSSPadding {
			return rsa.SignPSS(rand.Reader, key, h, sum, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
		return rsa.SignPKCS1v15(rand.Reader, key, h, sum)
	case *ecdsa.PrivateKey:
		if !raw {
			return ecdsa.SignASN1(rand.Reader, key, sum)
		}
		r, s, err := ecdsa.Sign(rand.Reader, key, sum)
		if err != nil {
			return nil, err
		}
		n := ecdsaRawSize(&key.PublicKey)
		out := make([]byte, 2*n)
		r.FillBytes(out[:n])
		s.FillBytes(out[n:])
		return out, nil
	}
	return nil, errors.New("pkey:sign: unsupported key type")
}

func (k *pkey) verify(L *lua.LState) (bool, error) {
	sig := []byte(luavm.CheckString(L, 2))
	opts, _ := L.Get(6).(*lua.LTable)
	raw := opts != nil && lua.LVAsBool(opts.RawGetString("ecdsa_use_raw"))
	if edk, ok := k.pub.(ed25519.PublicKey); ok {
		s, ok := L.Get(3).(lua.LString)
		if !ok {
			return false, errors.New("pkey:verify: Ed25519 verifies a string")
		}
		return ed25519.Verify(edk, []byte(s), sig), nil
	}
	if edk, ok := k.pub.(ed448.PublicKey); ok {
		s, ok := L.Get(3).(lua.LString)
		if !ok {
			return false, errors.New("pkey:verify: Ed448 verifies a string")
		}
		return ed448.Verify(edk, []byte(s), sig, ""), nil
	}
	sum, h, _, err := digestInput(L, L.Get(3), L.OptString(4, ""))
	if err != nil {
		return false, errors.New("pkey:verify: " + err.Error())
	}
	switch key := k.pub.(type) {
	case *rsa.PublicKey:
		if L.OptInt(5, 0) == rsaPKCS1PSSPadding {
			return rsa.VerifyPSS(key, h, sum, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil, nil
		}
		return rsa.VerifyPKCS1v15(key, h, sum, sig) == nil, nil
	case *ecdsa.PublicKey:
		if !raw {
			return ecdsa.VerifyASN1(key, sum, sig), nil
		}
		n := ecdsaRawSize(key)
		if len(sig) != 2*n {
			return false, nil
		}
		r := new(big.Int).SetBytes(sig[:n])
		s := new(big.Int).SetBytes(sig[n:])
		return ecdsa.Verify(key, sum, r, s), nil
	}
	return false, errors.New("pkey:verify: unsupported key type")
}

func (k *pkey) toPEM(which string) (string, error) {
	if _, ok := k.pub.(ed448.PublicKey); ok {
		private := strings.EqualFold(which, "private")
		der, err := marshalEd448(k, private)
		if err != nil {
			return "", err
		}
		typ := "PUBLIC KEY"
		if private {
			typ = "PRIVATE KEY"
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})), nil
	}
	if strings.EqualFold(which, "private") {
		if k.priv == nil {
			return "", errors.New("pkey:to_PEM: key is not a private key")
		}
		der, err := x509.MarshalPKCS8PrivateKey(k.priv)
		if err != nil {
			return "", err
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
	}
	der, err := x509.MarshalPKIXPublicKey(k.pub)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// OpenPkey registers the preloaded module "resty.openssl.pkey" in L.
func OpenPkey(L *lua.LState) {
	mt := L.NewTypeMetatable(opensslPkeyType)
	check := func(L *lua.LState) *pkey { return bind.CheckUserData[*pkey](L, 1, "pkey expected") }
	fail := func(L *lua.LState, err error) int {
		return bind.Fail(L, err.Error())
	}
	mt.RawSetString("__index", L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"sign": func(L *lua.LState) int {
			sig, err := check(L).sign(L)
			if err != nil {
				return fail(L, err)
			}
			L.Push(lua.LString(sig))
			return 1
		},
		"verify": func(L *lua.LState) int {
			ok, err := check(L).verify(L)
			if err != nil {
				return fail(L, err)
			}
			L.Push(lua.LBool(ok))
			return 1
		},
		"to_PEM": func(L *lua.LState) int {
			s, err := check(L).toPEM(L.OptString(2, "public"))
			if err != nil {
				return fail(L, err)
			}
			L.Push(lua.LString(s))
			return 1
		},
		"is_private": func(L *lua.LState) int {
			L.Push(lua.LBool(check(L).priv != nil))
			return 1
		},
		"get_key_type": func(L *lua.LState) int {
			sn := "rsaEncryption"
			switch check(L).pub.(type) {
			case *ecdsa.PublicKey:
				sn = "id-ecPublicKey"
			case ed25519.PublicKey:
				sn = "ED25519"
			case ed448.PublicKey:
				sn = "ED448"
			}
			t := L.NewTable()
			t.RawSetString("sn", lua.LString(sn))
			L.Push(t)
			return 1
		},
	}))

	L.PreloadModule("resty.openssl.pkey", func(L *lua.LState) int {
		mod := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
			"new": func(L *lua.LState) int {
				var k *pkey
				var err error
				switch v := L.Get(1).(type) {
				case lua.LString:
					k, err = parsePkey([]byte(v))
				case *lua.LTable:
					k, err = generatePkey(L.Context(), lua.LVAsString(v.RawGetString("type")),
						int(lua.LVAsNumber(v.RawGetString("bits"))), lua.LVAsString(v.RawGetString("curve")))
				case *lua.LNilType:
					k, err = generatePkey(L.Context(), "RSA", 0, "")
				default:
					err = fmt.Errorf("pkey.new: unexpected type %s at #1", v.Type())
				}
				if err != nil {
					return fail(L, err)
				}
				ud := bind.NewUserData(L, k, mt)
				L.Push(ud)
				return 1
			},
			"istype": func(L *lua.LState) int {
				ud, ok := L.Get(1).(*lua.LUserData)
				L.Push(lua.LBool(ok && ud.Metatable == mt))
				return 1
			},
		})
		pads := L.NewTable()
		for name, n := range map[string]int{
			"RSA_PKCS1_PADDING": 1, "RSA_SSLV23_PADDING": 2, "RSA_NO_PADDING": 3,
			"RSA_PKCS1_OAEP_PADDING": 4, "RSA_X931_PADDING": 5, "RSA_PKCS1_PSS_PADDING": rsaPKCS1PSSPadding,
		} {
			pads.RawSetString(name, lua.LNumber(n))
		}
		mod.RawSetString("PADDINGS", pads)
		L.Push(mod)
		return 1
	})
}

// maxRSABits is the largest RSA modulus generated, as OpenSSL's limit.
const maxRSABits = 16384

// generateRSA generates an RSA key, giving up when ctx (the worker's
// deadline) ends first: a large key takes seconds to minutes and Go's
// generator cannot be interrupted, so it runs on its own goroutine, which
// finishes (bounded by maxRSABits) after the caller has moved on.
func generateRSA(ctx context.Context, bits int) (*rsa.PrivateKey, error) {
	if ctx == nil {
		return rsa.GenerateKey(rand.Reader, bits)
	}
	type result struct {
		k   *rsa.PrivateKey
		err error
	}
	done := make(chan result, 1)
	go func() {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		done <- result{k, err}
	}()
	select {
	case r := <-done:
		return r.k, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
