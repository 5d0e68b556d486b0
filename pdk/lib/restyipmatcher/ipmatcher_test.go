package restyipmatcher_test

import (
	"testing"

	"github.com/luahost/luahost/pdk/pdktest"
)

func TestRestyIPMatcher(t *testing.T) {
	in, _ := pdktest.New(t)
	cases := map[string]string{
		`local m = require("resty.ipmatcher").new({ "10.0.0.0/8", "192.168.1.1", "2001:db8::/32" })
		 return tostring(m:match("10.1.2.3")) .. tostring(m:match("192.168.1.1")) ..
		   tostring(m:match("192.168.1.2")) .. tostring(m:match("2001:db8::1")) .. tostring(m:match("2001:db9::1"))`: "truetruefalsetruefalse",
		`local m = require("resty.ipmatcher").new({ "127.0.0.1" })
		 return tostring(m:match_bin("\127\0\0\1")) .. tostring(m:match_bin("\127\0\0\2"))`: "truefalse",
		`local m = require("resty.ipmatcher").new({ "127.0.0.1" })
		 local ok, err = m:match_bin("abc") return tostring(ok) .. "|" .. err`: "false|invalid binary ip address",
		`local m = require("resty.ipmatcher").new({ "127.0.0.1" })
		 local ok, err = m:match("nope") return tostring(ok) .. "|" .. err`: "false|invalid ip address: nope",
		`local m, err = require("resty.ipmatcher").new({ "1.2.3.4", "300.1.1.1" })
		 return tostring(m) .. "|" .. err`: "nil|invalid ip address: 300.1.1.1",
		`local m = require("resty.ipmatcher").new_with_value({ ["10.0.0.0/8"] = "wide", ["10.1.0.0/16"] = "narrow" })
		 return m:match("10.1.2.3") .. m:match("10.2.0.1") .. tostring(m:match("11.0.0.1"))`: "narrowwidefalse",
	}
	for src, want := range cases {
		if got := pdktest.Str(t, in, src); got != want {
			t.Errorf("%s\n= %s, want %s", src, got, want)
		}
	}
}
