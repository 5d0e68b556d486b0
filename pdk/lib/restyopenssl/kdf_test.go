package restyopenssl_test

import (
	"testing"

	"github.com/luahost/luahost/pdk/pdktest"
)

func TestRestyOpenSSLKdf(t *testing.T) {
	in, _ := pdktest.New(t)
	hex := `local function hex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
	local kdf = require("resty.openssl.kdf") `
	cases := map[string]string{
		// RFC 6070 (PBKDF2-HMAC-SHA1), SHA1 being the default digest.
		hex + `return hex(kdf.new("PBKDF2"):derive(20, { pass = "password", salt = "salt", iter = 1 }, 3))`: "0c60c80f961f0e71f3a9b524af6012062fe037a6",
		hex + `local k = kdf.new("pbkdf2") assert(k:reset() == true)
		 return hex(k:derive(20, { pass = "password", salt = "salt", iter = 4096, digest = "sha1" }))`: "4b007901b765489abead49d926f721d065a429c1",
		// RFC 5869 test case 1 (HKDF-SHA256).
		hex + `return hex(kdf.new("HKDF"):derive(42, { digest = "sha256", key = string.rep("\11", 22),
		 salt = "\0\1\2\3\4\5\6\7\8\9\10\11\12", info = "\240\241\242\243\244\245\246\247\248\249" }))`: "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
		hex + `return hex(kdf.new("HKDF"):derive(32, { digest = "sha256", key = string.rep("\11", 22),
		 salt = "\0\1\2\3\4\5\6\7\8\9\10\11\12", mode = "EXTRACT_ONLY" }))`: "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
		hex + `return tostring(kdf.istype(kdf.new("PBKDF2"))) .. tostring(kdf.istype({}))`:                        "truefalse",
		hex + `local k, err = kdf.new("SCRYPT") return tostring(k) .. "|" .. err`:                                 `nil|kdf.new: invalid kdf type "SCRYPT" (luahost supports PBKDF2 and HKDF)`,
		hex + `local k, err = kdf.new("HKDF"):derive(16, { key = "k" }) return tostring(k) .. "|" .. err`:         `nil|kdf:derive: option digest is required`,
		hex + `local k, err = kdf.new("PBKDF2"):derive(0, { pass = "p" }) return tostring(k) .. "|" .. err`:       `nil|kdf:derive: outlen must be between 1 and 65536, got 0`,
		hex + `local k, err = kdf.new("PBKDF2"):derive(8, { digest = "whirl" }) return tostring(k) .. "|" .. err`: `nil|kdf:derive: invalid digest type "whirl"`,
	}
	for src, want := range cases {
		if got := pdktest.Str(t, in, src); got != want {
			t.Errorf("%s\n= %s, want %s", src, got, want)
		}
	}
}
