package restystring_test

import (
	"testing"

	"github.com/luahost/luahost/pdk/pdktest"
)

func TestRestyDigests(t *testing.T) {
	in, _ := pdktest.New(t)
	cases := []struct{ mod, want string }{
		// FIPS 180 / RFC 1321 vectors for "abc".
		{"resty.md5", "900150983cd24fb0d6963f7d28e17f72"},
		{"resty.sha1", "a9993e364706816aba3e25717850c26c9cd0d89d"},
		{"resty.sha224", "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7"},
		{"resty.sha256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"resty.sha384", "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"},
		{"resty.sha512", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
	}
	for _, c := range cases {
		got := pdktest.Str(t, in, `
			local h = require("`+c.mod+`"):new()
			assert(h:update("a") == true)
			h:update("bc")
			return require("resty.string").to_hex(h:final())`)
		if got != c.want {
			t.Errorf("%s(abc) = %s, want %s", c.mod, got, c.want)
		}
	}
	// reset starts over.
	got := pdktest.Str(t, in, `
		local h = require("resty.sha1"):new()
		h:update("garbage")
		h:reset()
		h:update("abc")
		return require("resty.string").to_hex(h:final())`)
	if got != "a9993e364706816aba3e25717850c26c9cd0d89d" {
		t.Errorf("after reset: %s", got)
	}
	if msg := pdktest.LuaErr(t, in, `local h = require("resty.md5"):new(); h.update("x")`); msg == "" {
		t.Error("update with '.' must fail")
	}
}

func TestRestyStringAtoiAndRandom(t *testing.T) {
	in, _ := pdktest.New(t)
	for src, want := range map[string]string{
		`return require("resty.string").atoi("  42abc")`:  "42",
		`return require("resty.string").atoi("-7")`:       "-7",
		`return require("resty.string").atoi("x1")`:       "0",
		`return require("resty.string").to_hex("\0\255")`: "00ff",
		`return #require("resty.random").bytes(16, true)`: "16",
		`return #require("resty.random").bytes(5)`:        "5",
		`local r = require("resty.random")
		 return tostring(r.bytes(32, true) ~= r.bytes(32, true))`: "true",
	} {
		if got := pdktest.Str(t, in, src); got != want {
			t.Errorf("%s = %s, want %s", src, got, want)
		}
	}
}
