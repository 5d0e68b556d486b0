package restyopenssl_test

import (
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/pdk/pdktest"
)

// An Ed448 key pair and a signature of "luahost" made by OpenSSL 3
// (genpkey -algorithm ed448; pkeyutl -sign -rawin), which Kong's
// resty.openssl loads: the jwt plugin's EdDSA credentials may hold one.
const (
	opensslEd448Private = `-----BEGIN PRIVATE KEY-----
MEcCAQAwBQYDK2VxBDsEOYhCI7oEUHD66mgfPDTyNf0QjeNkXW2QOCxPNNxjRw/l
K1SjuxUn2GVXxiYUtHzLunHY3mlcCMM1FQ==
-----END PRIVATE KEY-----
`
	opensslEd448Public = `-----BEGIN PUBLIC KEY-----
MEMwBQYDK2VxAzoAMVdhdORfNfa8+/d1wZ0nsEVNtSb01ZKlyXMAueghNX4uHinL
bXW++XrBCcpjiwrhOsCKohxPdM0A
-----END PUBLIC KEY-----
`
	opensslEd448Sig = "EUBfvVaCzUzvF/KyBHXqRkJd5u8YBYhx3eEiJ1ENpQkm5yQnHXeev3wR6wP9RWwcnUHU5ZxgL0OAqpf5j4CqIwuyludxhTVOLc9AU2NfxnuFRAxUr+nKdyePzfo5To5ej94nfnqOEZC93xJOWmo4CQMA"
)

func TestRestyPkeyEd448(t *testing.T) {
	in, _ := pdktest.New(t)
	in.L.SetGlobal("PRIV", lua.LString(opensslEd448Private))
	in.L.SetGlobal("PUB", lua.LString(opensslEd448Public))
	in.L.SetGlobal("SIG", lua.LString(opensslEd448Sig))
	cases := map[string]string{
		// OpenSSL's keys load; signing is deterministic, as OpenSSL's
		`local pkey = require "resty.openssl.pkey"
		 local k = assert(pkey.new(PRIV))
		 local pub = assert(pkey.new(PUB))
		 local sig = assert(k:sign("luahost"))
		 return tostring(ngx.encode_base64(sig) == SIG) .. "," .. tostring(pub:verify(sig, "luahost")) .. "," ..
		   tostring(pub:verify(sig, "luahosT")) .. "," .. pub:get_key_type().sn .. "," ..
		   tostring(pub:is_private()) .. tostring(k:is_private())`: "true,true,false,ED448,falsetrue",
		// written back as OpenSSL writes them
		`local pkey = require "resty.openssl.pkey"
		 local k = assert(pkey.new(PRIV))
		 return tostring(k:to_PEM("private") == PRIV) .. "," .. tostring(k:to_PEM() == PUB)`: "true,true",
		// a generated key round-trips through PEM
		`local pkey = require "resty.openssl.pkey"
		 local k = assert(pkey.new({ type = "Ed448" }))
		 local pub = assert(pkey.new(k:to_PEM("public")))
		 local sig = assert(k:sign("m"))
		 return #sig .. "," .. tostring(pub:verify(sig, "m"))`: "114,true",
	}
	for src, want := range cases {
		if got := pdktest.Str(t, in, src); got != want {
			t.Errorf("%s\n= %s, want %s", src, got, want)
		}
	}
}
