package ngx_test

import (
	"strings"
	"testing"

	"github.com/luahost/luahost/pdk/pdktest"
)

func TestNgxReMatchFind(t *testing.T) {
	in, _ := pdktest.New(t)
	cases := map[string]string{
		`local m = ngx.re.match("hello, 1234", "([0-9])[0-9]+") return m[0] .. "|" .. m[1]`:                              "1234|1",
		`local m = ngx.re.match("hello, 1234", "(?<first>[0-9])(?<rest>[0-9]+)", "jo") return m.first .. m.rest .. m[2]`: "1234234",
		`return ngx.re.match("hello", "[0-9]+")`:                                                                         "nil",
		`local m = ngx.re.match("HELLO", "hello", "ijo") return m[0]`:                                                    "HELLO",
		`local m = ngx.re.match("ab", "(a)(x)?(b)") return tostring(m[2]) .. m[3]`:                                       "falseb",
		`local ctx = {pos = 3} local m = ngx.re.match("1a2b3", "[0-9]", "jo", ctx) return m[0] .. ctx.pos`:               "24",
		`return ngx.re.match("xab", "ab", "a")`:                                                                          "nil",
		`local f, t = ngx.re.find("hello, 1234", "[0-9]+", "jo") return f .. "-" .. t`:                                   "8-11",
		`local f, t = ngx.re.find("hello, 1234", "([0-9])([0-9]+)", "jo", nil, 2) return f .. "-" .. t`:                  "9-11",
		`return ngx.re.find("hello", "z")`:                                                                               "nil",
		`local m, err = ngx.re.match("x", "(a") return tostring(m) .. " " .. err`:                                        "nil pcre_compile() failed: error parsing regexp: missing closing ): `(a` in \"(a\"",
		`local m, err = ngx.re.match("x", "a", "x") return tostring(m) .. " " .. err`:                                    "nil pcre_compile() failed: the \"x\" option is not supported",
	}
	for src, want := range cases {
		if got := pdktest.Str(t, in, src); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
	}
}

func TestNgxReGmatchSub(t *testing.T) {
	in, _ := pdktest.New(t)
	cases := map[string]string{
		`local out = {} for m in ngx.re.gmatch("hello, world", "([a-z]+)", "i") do out[#out+1] = m[1] end return table.concat(out, ",")`: "hello,world",
		`local it = ngx.re.gmatch("a1b2", "[0-9]") local a, b, c = it(), it(), it() return a[0] .. b[0] .. tostring(c)`:                  "12nil",
		`local s, n = ngx.re.sub("hello, 1234", "([0-9])[0-9]", "[$0][$1]") return s .. " " .. n`:                                        "hello, [12][1]34 1",
		`local s, n = ngx.re.gsub("hello, world", "([a-z])[a-z]+", "[$0,$1]", "i") return s .. " " .. n`:                                 "[hello,h], [world,w] 2",
		`local s = ngx.re.gsub("a-b", "(?<x>[a-z])", "${x}${x}$$") return s`:                                                             "aa$-bb$",
		`local s, n = ngx.re.gsub("hello, world", "[a-z]+", function(m) return "<" .. m[0] .. ">" end) return s .. n`:                    "<hello>, <world>2",
		`local s, n = ngx.re.gsub("abc", "x", "y") return s .. n`:                                                                        "abc0",
		`local s, n, err = ngx.re.gsub("abc", "b", "$") return tostring(s) .. " " .. err`:                                                "nil failed to compile the replacement template: invalid capturing variable name found in \"$\"",
		`local s = ngx.re.gsub("abc", "", "-") return s`:                                                                                 "-a-b-c-",
	}
	for src, want := range cases {
		if got := pdktest.Str(t, in, src); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
	}
	if msg := pdktest.LuaErr(t, in, `ngx.re.gsub("abc", "b", {})`); !strings.Contains(msg, "string, number, or function expected") {
		t.Errorf("bad replace: %s", msg)
	}
}

func TestNgxReSplitAndBase64URL(t *testing.T) {
	in, _ := pdktest.New(t)
	pdktest.Run(t, in, "init.lua", `split = require("ngx.re").split b64 = require "ngx.base64"`)
	cases := map[string]string{
		`return table.concat(split("a,b,c,d", ","), "|")`:                                      "a|b|c|d",
		`return table.concat(split("a,b,c,d", "(,)"), "|")`:                                    "a|,|b|,|c|,|d",
		`return table.concat(split("abcd", ""), "|")`:                                          "a|b|c|d",
		`return table.concat(split(",a,,b,", ","), "|")`:                                       "|a||b",
		`return table.concat(split("a,b,c,d", ",", nil, nil, 2), "|")`:                         "a|b,c,d",
		`return table.concat(split("a1b22c", "\\d+"), "|")`:                                    "a|b|c",
		`return #split("", ",")`:                                                               "0",
		`local r = {"x", "y", "z", "w"} split("a,b", ",", nil, nil, nil, r) return #r .. r[2]`: "2b",
		`return b64.encode_base64url("\255\254\253")`:                                          "__79",
		`return b64.decode_base64url("__79")`:                                                  "\xff\xfe\xfd",
		`local v, err = b64.decode_base64url("*") return tostring(v) .. err`:                   "nilinvalid input",
	}
	for src, want := range cases {
		if got := pdktest.Str(t, in, src); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
	}
}
