package native_test

import (
	"strings"
	"testing"

	"github.com/luahost/luahost/pdk/lib/native"
	"github.com/luahost/luahost/pdk/pdktest"
)

func TestNative(t *testing.T) {
	in, _ := pdktest.New(t)
	cases := map[string]string{
		`return #require("luahost.native").uuid()`:                                        "36",
		`return #require("luahost.native").random_bytes(16)`:                              "16",
		`return require("luahost.native").parse_time("1h 30m")`:                           "5400",
		`return tostring(require("luahost.native").parse_time("1x"))`:                     "nil",
		`local n = require "luahost.native" return n.inflate_gzip(n.deflate_gzip("abc"))`: "abc",
		`return tostring(require("luahost.native").is_valid_ipv6("::1"))`:                 "true",
		`return require("luahost.native").timestamps(90061001).day`:                       "86400000",
	}
	for src, want := range cases {
		if got := pdktest.Str(t, in, src); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
	}
	if msg := pdktest.LuaErr(t, in, `require("luahost.native").random_bytes(1e12)`); !strings.Contains(msg, "not enough memory") {
		t.Errorf("random_bytes(1e12): %q", msg)
	}
	if n, ok := native.ParseNginxTime("2d 1s"); !ok || n != 172801 {
		t.Errorf("ParseNginxTime: %d %v", n, ok)
	}
}
