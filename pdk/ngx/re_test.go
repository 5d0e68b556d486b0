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
		`local m, err = ngx.re.match("x", "(a") return tostring(m) .. " " .. err`:                                        "nil pcre_compile() failed: missing closing ) in \"(a\"",
		`local m = ngx.re.match("a b", "a \\  b # comment", "x") return m[0]`:                                            "a b",
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
		`local s = ngx.re.gsub("a-b", "([a-z])", "${1}${1}$$") return s`:                                                                 "aa$-bb$",
		`local s, n = ngx.re.gsub("hello, world", "[a-z]+", function(m) return "<" .. m[0] .. ">" end) return s .. n`:                    "<hello>, <world>2",
		`local s, n = ngx.re.gsub("abc", "x", "y") return s .. n`:                                                                        "abc0",
		`local s, n, err = ngx.re.gsub("abc", "b", "$") return tostring(s) .. " " .. err`:                                                "nil failed to compile the replacement template",
		// lua-nginx-module's script compiler: named captures "not supported yet"
		`local s, n, err = ngx.re.gsub("a-b", "(?<x>[a-z])", "${x}") return tostring(s) .. " " .. err`: "nil failed to compile the replacement template",
		`local s, n, err = ngx.re.gsub("abc", "b", "${1") return tostring(s) .. " " .. err`:            "nil failed to compile the replacement template",
		// lua-resty-core: the function's result goes through tostring
		`return (ngx.re.gsub("ab", "a", function() return nil end))`:   "nilb",
		`return (ngx.re.gsub("ab", "a", function() return 1.5 end))`:   "1.5b",
		`local s, n = ngx.re.gsub("baaac", "a*", "-") return s .. n`:   "-b--c-4",
		`local s, n = ngx.re.gsub("aab", "a", "-", "a") return s .. n`: "--b2",
		`local s, n = ngx.re.gsub("baa", "a", "-", "a") return s .. n`: "baa0",
		`local s, n = ngx.re.sub("hello", "l", "L") return s .. n`:     "heLlo1",
		`local s = ngx.re.gsub("abc", "", "-") return s`:               "-a-b-c-",
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

// Patterns Go's regexp (RE2) cannot express, with the answers PCRE gives
// (OpenResty's documented behaviour).
func TestNgxRePCREOnly(t *testing.T) {
	in, _ := pdktest.New(t)
	cases := map[string]string{
		// lookahead, lookbehind
		`local m = ngx.re.match("foobaz foobar", "foo(?=bar)") local f = ngx.re.find("foobaz foobar", "foo(?=bar)") return m[0] .. f`: "foo8",
		`return ngx.re.match("price: $42", "(?<=\\$)\\d+")[0]`:                                                                        "42",
		`return ngx.re.match("xy zy", "(?<!x)y")[0] .. ngx.re.find("xy zy", "(?<!x)y")`:                                               "y5",
		// back references, numbered and named
		`local m = ngx.re.match("abccd", "(\\w)\\1") return m[0] .. m[1]`:                     "ccc",
		`local m = ngx.re.match([[say "hi" 'x']], [[(?<q>['"]).*?\k<q>]]) return m[0] .. m.q`: `"hi""`,
		// atomic group and possessive quantifier: no backtracking into them
		`return tostring(ngx.re.match("aaab", "(?>a+)ab"))`: "nil",
		`return tostring(ngx.re.match("aaab", "a++ab"))`:    "nil",
		`return ngx.re.match("aaab", "(?>a+)b")[0]`:         "aaab",
		// "D": names repeated, the name holds its matched values in order
		`local m = ngx.re.match("hello, world", "(?<named>\\w+), (?<named>\\w+)", "D") return #m.named .. m.named[1] .. m.named[2] .. m[1] .. m[2]`: "2helloworldhelloworld",
		`local m = ngx.re.match("b", "(?<n>a)|(?<n>b)", "D") return #m.n .. m.n[1] .. tostring(m[1]) .. m[2]`:                                       "1bfalseb",
		`local m = ngx.re.match("x", "(?<n>a)?x", "D") return tostring(m.n) .. tostring(m[1])`:                                                      "nilfalse",
		`local m, err = ngx.re.match("b", "(?<n>a)|(?<n>b)") return tostring(m) .. " " .. err`:                                                      "nil pcre_compile() failed: two named subpatterns have the same name in \"(?<n>a)|(?<n>b)\" at \"(?<n>b)\"",
		// an unmatched named group is false under its name, too
		`local m = ngx.re.match("x", "(?<n>a)?x") return tostring(m.n) .. tostring(m[1])`: "falsefalse",
		// a start position sees the text before it
		`local ctx = {pos = 2} local m = ngx.re.match("ab", "(?<=a)b", nil, ctx) return m[0] .. ctx.pos`: "b3",
		`local ctx = {pos = 2} return tostring(ngx.re.match("ab", "^b", nil, ctx))`:                      "nil",
		`local ctx = {pos = 3} return ngx.re.find("ab b", "\\bb", nil, ctx)`:                             "4",
		// $ matches before a final newline, as PCRE's
		`return ngx.re.match("abc\n", "c$")[0]`: "c",
		// gsub, gmatch and split with lookaround
		`return (ngx.re.gsub("a1b2c3", "(?<=[a-z])\\d", "#"))`:                                                                        "a#b#c#",
		`local out = {} for m in ngx.re.gmatch("k1=v1;k2=v2", "(\\w+)(?==)") do out[#out+1] = m[1] end return table.concat(out, ",")`: "k1,k2",
		`return table.concat(require("ngx.re").split("aXbXXc", "X(?!X)"), "|")`:                                                       "a|bX|c",
		// the captures table given as res_table is filled
		`local r = {} local m = ngx.re.match("ab", "(a)(b)", nil, nil, r) return tostring(m == r) .. r[2]`: "trueb",
		// find's nth past the groups
		`local f, t, err = ngx.re.find("ab", "(a)b", nil, nil, 2) return tostring(f) .. tostring(t) .. err`: "nilnilnth out of bound",
		`local f, t = ngx.re.find("b", "(a)?b", nil, nil, 1) return tostring(f) .. tostring(t)`:             "nilnil",
	}
	for src, want := range cases {
		if got := pdktest.Str(t, in, src); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
	}
	// an unknown option raises at the caller (lua-resty-core: error(..., 3))
	if msg := pdktest.LuaErr(t, in, `ngx.re.match("a", "a", "z")`); !strings.Contains(msg, `unknown flag "z" (flags "z")`) {
		t.Errorf("unknown flag: %s", msg)
	}
}

// A catastrophic backtracking pattern returns PCRE's match-limit error
// (nil, "pcre_exec() failed: -8") instead of hanging the worker.
func TestNgxReMatchLimit(t *testing.T) {
	in, _ := pdktest.New(t)
	subj := `string.rep("a", 40) .. "!"`
	for src, want := range map[string]string{
		`local m, err = ngx.re.match(` + subj + `, "^(a+)+(?=b)") return tostring(m) .. " " .. err`:                                    "nil pcre_exec() failed: -8",
		`local f, t, err = ngx.re.find(` + subj + `, "^(a+)+(?=b)") return tostring(f) .. tostring(t) .. " " .. err`:                   "nilnil pcre_exec() failed: -8",
		`local s, n, err = ngx.re.gsub(` + subj + `, "^(a+)+(?=b)", "") return tostring(s) .. tostring(n) .. " " .. err`:               "nilnil pcre_exec() failed: -8",
		`local it = ngx.re.gmatch(` + subj + `, "^(a+)+(?=b)") local m, err = it() return tostring(m) .. " " .. err .. tostring(it())`: "nil pcre_exec() failed: -8nil",
		`local r, err = require("ngx.re").split(` + subj + `, "^(a+)+(?=b)") return tostring(r) .. " " .. err`:                         "nil pcre_exec() failed: -8",
	} {
		if got := pdktest.Str(t, in, src); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
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
