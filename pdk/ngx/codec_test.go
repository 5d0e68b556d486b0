package ngx_test

import (
	"strings"
	"testing"

	"github.com/luahost/luahost/pdk/pdktest"
)

func TestNgxHashesAndBase64(t *testing.T) {
	in, _ := pdktest.New(t)
	cases := map[string]string{
		`return ngx.md5("hello")`:      "5d41402abc4b2a76b9719d911017c592",
		`return ngx.md5(nil)`:          "d41d8cd98f00b204e9800998ecf8427e",
		`return ngx.md5(123)`:          "202cb962ac59075b964b07152d234b70",
		`return #ngx.md5_bin("hello")`: "16",
		`return (string.gsub(ngx.sha1_bin("abc"), ".", function(c) return string.format("%02x", c:byte()) end))`: "a9993e364706816aba3e25717850c26c9cd0d89d",
		`return ngx.encode_base64(ngx.hmac_sha1("key", "The quick brown fox jumps over the lazy dog"))`:          "3nybhbi3iqa8ino29wqQcBydtNk=",
		`return ngx.crc32_short("hello")`:         "907060870",
		`return ngx.crc32_long("hello")`:          "907060870",
		`return ngx.encode_base64("hello")`:       "aGVsbG8=",
		`return ngx.encode_base64("hello", true)`: "aGVsbG8",
		`return ngx.encode_base64("")`:            "",
		`return ngx.decode_base64("aGVsbG8=")`:    "hello",
		`return ngx.decode_base64("aGVsbG8")`:     "hello",
		`return ngx.decode_base64("aGVsbG9=")`:    "hello",
		`return ngx.decode_base64("aGVs\nbG8=")`:  "nil",
		`return ngx.decode_base64("a")`:           "nil",
		`return ngx.decode_base64("a*b=")`:        "nil",
	}
	for src, want := range cases {
		if got := pdktest.Str(t, in, src); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
	}
}

func TestNgxEscapeURI(t *testing.T) {
	in, _ := pdktest.New(t)
	cases := map[string]string{
		// ngx_lua's docs and tests
		`return ngx.escape_uri("a b")`:                     "a%20b",
		`return ngx.escape_uri("https://x.com/p?q=1&r=~")`: "https%3A%2F%2Fx.com%2Fp%3Fq%3D1%26r%3D~",
		`return ngx.escape_uri("-._~AZaz09")`:              "-._~AZaz09",
		`return ngx.escape_uri("\"'()*!+,;")`:              "%22'()*!%2B%2C%3B",
		`return ngx.escape_uri("\0\127\255")`:              "%00%7F%FF",
		`return ngx.escape_uri("a b/c?d", 0)`:              "a%20b/c%3Fd",
		`return ngx.escape_uri(nil)`:                       "",
		`return ngx.unescape_uri("a%20b")`:                 "a b",
		`return ngx.unescape_uri("a+b")`:                   "a b",
		`return ngx.unescape_uri("%2")`:                    "%2",
		`return ngx.unescape_uri("%zz%41")`:                "%zzA",
		`return ngx.unescape_uri("%e4%B8%AD")`:             "中",
	}
	for src, want := range cases {
		if got := pdktest.Str(t, in, src); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
	}
	if msg := pdktest.LuaErr(t, in, `ngx.escape_uri("x", 42)`); !strings.Contains(msg, "out of range") {
		t.Errorf("bad type: %s", msg)
	}
}

func TestNgxArgs(t *testing.T) {
	in, _ := pdktest.New(t)
	cases := map[string]string{
		`return ngx.encode_args({["b r"] = "hello world"})`: "b%20r=hello%20world",
		`return ngx.encode_args({foo = 3})`:                 "foo=3",
		// pairs order, as nginx: sort the pieces to compare
		`local p = {} for x in ngx.encode_args({a = true, b = false, c = {"1", "2"}}):gmatch("[^&]+") do p[#p+1] = x end table.sort(p) return table.concat(p, "&")`: "a&c=1&c=2",
		`return ngx.encode_args({})`: "",
		`local t = ngx.decode_args("a=1&b&c=&a=2&d=x+y%21") return t.a[1] .. t.a[2] .. tostring(t.b) .. "[" .. t.c .. "]" .. t.d`: "12true[]x y!",
		`local t, e = ngx.decode_args("a=1&b=2&c=3", 2) return tostring(t.c) .. " " .. tostring(e)`:                               "nil truncated",
		`local n = 0 for k in pairs(ngx.decode_args("&&=x&a")) do n = n + 1 end return n`:                                         "1",
	}
	for src, want := range cases {
		if got := pdktest.Str(t, in, src); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
	}
	if msg := pdktest.LuaErr(t, in, `ngx.encode_args({a = {}, b = function() end})`); !strings.Contains(msg, "attempt to use function as query arg value") {
		t.Errorf("bad value: %s", msg)
	}
}
