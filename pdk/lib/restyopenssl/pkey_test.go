package restyopenssl_test

import (
	"testing"

	"github.com/luahost/luahost/pdk/pdktest"
)

func TestRestyPkey(t *testing.T) {
	in, _ := pdktest.New(t)
	cases := map[string]string{
		// RSA PKCS#1 v1.5 and PSS, through a public key loaded from PEM.
		`local pkey = require "resty.openssl.pkey"
		 local k = assert(pkey.new({ type = "RSA", bits = 1024 }))
		 local pub = assert(pkey.new(k:to_PEM("public")))
		 local out = {}
		 local sig = assert(k:sign("data", "sha256"))
		 out[#out+1] = tostring(#sig == 128)
		 out[#out+1] = tostring(pub:verify(sig, "data", "sha256"))
		 out[#out+1] = tostring(pub:verify(sig, "datA", "sha256"))
		 out[#out+1] = tostring(pub:verify(sig, "data", "sha384"))
		 local pss = assert(k:sign("data", "sha256", pkey.PADDINGS.RSA_PKCS1_PSS_PADDING))
		 out[#out+1] = tostring(pub:verify(pss, "data", "sha256", pkey.PADDINGS.RSA_PKCS1_PSS_PADDING))
		 out[#out+1] = tostring(pub:verify(pss, "data", "sha256"))
		 out[#out+1] = tostring(pub:is_private()) .. tostring(k:is_private())
		 out[#out+1] = pub:get_key_type().sn
		 return table.concat(out, ",")`: "true,true,false,false,true,false,falsetrue,rsaEncryption",
		// A digest object is signed as its sum.
		`local pkey = require "resty.openssl.pkey"
		 local k = assert(pkey.new({ type = "RSA", bits = 1024 }))
		 local d = require("resty.openssl.digest").new("sha384")
		 d:update("payload")
		 local sig = assert(k:sign(d))
		 return tostring(k:verify(sig, "payload", "sha384"))`: "true",
		// ECDSA, raw r||s (JWS) and DER.
		`local pkey = require "resty.openssl.pkey"
		 local k = assert(pkey.new({ type = "EC", curve = "prime256v1" }))
		 local pub = assert(pkey.new(k:to_PEM()))
		 local raw = assert(k:sign("m", "sha256", nil, { ecdsa_use_raw = true }))
		 local der = assert(k:sign("m", "sha256"))
		 return #raw .. "," .. tostring(pub:verify(raw, "m", "sha256", nil, { ecdsa_use_raw = true })) .. "," ..
		   tostring(pub:verify(raw, "n", "sha256", nil, { ecdsa_use_raw = true })) .. "," ..
		   tostring(pub:verify(der, "m", "sha256")) .. "," .. pub:get_key_type().sn`: "64,true,false,true,id-ecPublicKey",
		`local pkey = require "resty.openssl.pkey"
		 local k = assert(pkey.new({ type = "EC", curve = "secp521r1" }))
		 return #assert(k:sign("m", "sha512", nil, { ecdsa_use_raw = true }))`: "132",
		// Ed25519 through a PKCS#8 private PEM.
		`local pkey = require "resty.openssl.pkey"
		 local k = assert(pkey.new(assert(pkey.new({ type = "Ed25519" })):to_PEM("private")))
		 local sig = assert(k:sign("msg"))
		 return #sig .. "," .. tostring(k:verify(sig, "msg")) .. "," .. tostring(k:verify(sig, "msh"))`: "64,true,false",
		`local k, err = require("resty.openssl.pkey").new("not a key") return tostring(k) .. "|" .. err`: "nil|pkey.new:load_key: failed to load key (unsupported or malformed key)",
		`local pkey = require "resty.openssl.pkey"
		 local pub = pkey.new(pkey.new({ type = "EC" }):to_PEM())
		 local s, err = pub:sign("x") return tostring(s) .. "|" .. err`: "nil|pkey:sign: key is not a private key",
	}
	for src, want := range cases {
		if got := pdktest.Str(t, in, src); got != want {
			t.Errorf("%s\n= %s, want %s", src, got, want)
		}
	}
}
