package restyopenssl_test

import (
	"testing"

	"github.com/luahost/luahost/pdk/pdktest"
)

func TestRestyOpenSSLDigestAndMac(t *testing.T) {
	in, _ := pdktest.New(t)
	hex := `local function hex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end `
	cases := map[string]string{
		hex + `local d = require("resty.openssl.digest").new("sha256")
		 assert(d:update("a", "b") == true) return hex(d:final("c"))`: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		hex + `return hex(require("resty.openssl.digest").new():final("abc"))`:                        "a9993e364706816aba3e25717850c26c9cd0d89d",
		hex + `return hex(require("resty.openssl.digest").new("SHA-512"):final(""))`:                  "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
		`local d, err = require("resty.openssl.digest").new("nope") return tostring(d) .. "|" .. err`: `nil|digest.new: invalid digest type "nope"`,
		// RFC 4231 test case 2.
		hex + `return hex(require("resty.openssl.mac").new("Jefe", "HMAC", nil, "sha256"):final("what do ya want for nothing?"))`: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		hex + `local m = require("resty.openssl.mac").new("Jefe", "HMAC", nil, "sha512")
		 m:update("garbage") m:reset() m:update("what do ya want ") return hex(m:final("for nothing?"))`: "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
		`local m, err = require("resty.openssl.mac").new("k", "CMAC", "aes-128-cbc") return tostring(m) .. "|" .. err`: `nil|mac.new: invalid mac type "CMAC" (luahost supports HMAC only)`,
	}
	for src, want := range cases {
		if got := pdktest.Str(t, in, src); got != want {
			t.Errorf("%s\n= %s, want %s", src, got, want)
		}
	}
}
