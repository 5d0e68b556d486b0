package cjson_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/lib/cjson"
	"github.com/luahost/luahost/pdk/pdktest"
)

func TestCJSONEncode(t *testing.T) {
	in, _ := pdktest.New(t)
	pdktest.Run(t, in, "init.lua", `cjson = require "cjson"`)
	cases := []struct{ src, want string }{
		{`return cjson.encode({})`, `{}`},
		{`return cjson.encode({1, 2, 3})`, `[1,2,3]`},
		{`return cjson.encode({a = 1})`, `{"a":1}`},
		{`return cjson.encode({a = "x", b = true, c = false})`, `{"a":"x","b":true,"c":false}`},
		{`return cjson.encode("a/b")`, `"a\/b"`},
		{`return cjson.encode("q\"\\\n\r\t\b\f\1\127é")`, `"q\"\\\n\r\t\b\f\u0001\u007fé"`},
		{`return cjson.encode(0.1)`, `0.1`},
		{`return cjson.encode(1/3)`, `0.33333333333333`},
		{`return cjson.encode(1e15)`, `1e+15`},
		{`return cjson.encode(123456789012)`, `123456789012`},
		{`return cjson.encode(-5)`, `-5`},
		{`return cjson.encode(nil)`, `null`},
		{`return cjson.encode(ngx.null)`, `null`},
		{`return cjson.encode({ngx.null, 1})`, `[null,1]`},
		{`return cjson.encode({[1] = 1, [3] = 3})`, `[1,null,3]`},
		{`return cjson.encode({[2] = "x"})`, `[null,"x"]`},
		{`return cjson.encode({[1.5] = 1})`, `{"1.5":1}`},
		{`return cjson.encode(setmetatable({}, cjson.array_mt))`, `[]`},
		{`return cjson.encode(setmetatable({}, cjson.empty_array_mt))`, `[]`},
		{`return cjson.encode({list = cjson.empty_array})`, `{"list":[]}`},
		{`return cjson.encode({a = {b = {c = {}}}})`, `{"a":{"b":{"c":{}}}}`},
	}
	for _, c := range cases {
		if got := pdktest.Str(t, in, c.src); got != c.want {
			t.Errorf("%s = %s, want %s", c.src, got, c.want)
		}
	}
	errs := []struct{ src, want string }{
		{`cjson.encode(function() end)`, "Cannot serialise function: type not supported"},
		{`cjson.encode({f = print})`, "Cannot serialise function: type not supported"},
		{`cjson.encode({[true] = 1})`, "Cannot serialise table: table key must be a number or string"},
		{`cjson.encode({[1] = 1, [100] = 2})`, "Cannot serialise table: excessively sparse array"},
		{`cjson.encode(0/0)`, "Cannot serialise number: must not be NaN or Infinity"},
		{`cjson.encode(1/0)`, "Cannot serialise number: must not be NaN or Infinity"},
		{`local t = {} t.t = t cjson.encode(t)`, "Cannot serialise, excessive nesting (1001)"},
	}
	for _, c := range errs {
		if got := pdktest.LuaErr(t, in, c.src); got != c.want {
			t.Errorf("%s raised %q, want %q", c.src, got, c.want)
		}
	}
}

func TestCJSONSettings(t *testing.T) {
	in, _ := pdktest.New(t)
	cases := []struct{ src, want string }{
		{`local c = require("cjson").new() c.encode_empty_table_as_object(false) return c.encode({})`, `[]`},
		{`local c = require("cjson").new() c.encode_escape_forward_slash(false) return c.encode("a/b")`, `"a/b"`},
		{`local c = require("cjson").new() c.encode_number_precision(16) return c.encode(1/3)`, `0.3333333333333333`},
		{`local c = require("cjson").new() c.encode_number_precision(3) return c.encode(12345)`, `1.23e+04`},
		{`local c = require("cjson").new() c.encode_sparse_array(true) return c.encode({[1] = 1, [100] = 2})`, `{"1":1,"100":2}`},
		// settings are per module: the default instance is untouched
		{`return require("cjson").encode({})`, `{}`},
		{`local c = require("cjson").new() c.decode_array_with_array_mt(true) local t = c.decode("[]") return tostring(getmetatable(t) == c.array_mt) .. c.encode(t)`, `true[]`},
		{`return tostring(getmetatable(require("cjson").decode("[]")))`, `nil`},
		{`return require("cjson")._NAME`, `cjson`},
	}
	for _, c := range cases {
		if got := pdktest.Str(t, in, c.src); got != c.want {
			t.Errorf("%s = %s, want %s", c.src, got, c.want)
		}
	}
}

func TestCJSONDecode(t *testing.T) {
	in, _ := pdktest.New(t)
	pdktest.Run(t, in, "init.lua", `cjson = require "cjson"`)
	cases := []struct{ src, want string }{
		{`local t = cjson.decode('{"a":1,"b":[1,2,{"c":null}],"d":"x\\/y\\u00e9"}') return t.a .. #t.b .. tostring(t.b[3].c == ngx.null) .. t.d`, "13truex/yé"},
		{`return cjson.decode('"str"')`, "str"},
		{`return cjson.decode(' 12.5 ')`, "12.5"},
		{`return tostring(cjson.decode('null') == cjson.null)`, "true"},
		{`return cjson.encode(cjson.decode('{"z":1,"a":2,"m":[true,false]}'))`, `{"z":1,"a":2,"m":[true,false]}`},
		{`return cjson.decode('1e400') > 1e308`, "true"},
	}
	for _, c := range cases {
		if got := pdktest.Str(t, in, c.src); got != c.want {
			t.Errorf("%s = %s, want %s", c.src, got, c.want)
		}
	}
	errs := []struct{ doc, want string }{
		{``, "Expected value but found T_END at character 1"},
		{`abc`, "Expected value but found invalid token at character 1"},
		{`  x`, "Expected value but found invalid token at character 3"},
		{`{`, "Expected object key string but found T_END at character 2"},
		{`[1,]`, "Expected value but found T_ARR_END at character 4"},
		{`[1,2`, "Expected comma or array end but found T_END at character 5"},
		{`[1 2]`, "Expected comma or array end but found T_NUMBER at character 4"},
		{`{"a" 1}`, "Expected colon but found T_NUMBER at character 6"},
		{`{"a":1 "b":2}`, "Expected comma or object end but found T_STRING at character 8"},
		{`{1:2}`, "Expected object key string but found T_NUMBER at character 2"},
		{`{"a":}`, "Expected value but found T_OBJ_END at character 6"},
		{`1 2`, "Expected the end but found T_NUMBER at character 3"},
		{`[tru]`, "Expected value but found invalid token at character 2"},
		{`"abc`, "Expected value but found unexpected end of string at character 5"},
	}
	for _, c := range errs {
		src := `cjson.decode(` + luaQuote(c.doc) + `)`
		if got := pdktest.LuaErr(t, in, src); got != c.want {
			t.Errorf("decode(%q) raised %q, want %q", c.doc, got, c.want)
		}
	}
	if got := pdktest.LuaErr(t, in, `cjson.decode(nil)`); !strings.Contains(got, "string expected") {
		t.Errorf("decode(nil): %s", got)
	}
}

func TestCJSONSafe(t *testing.T) {
	in, _ := pdktest.New(t)
	cases := []struct{ src, want string }{
		{`local v, err = require("cjson.safe").decode("{") return tostring(v) .. "|" .. err`, "nil|Expected object key string but found T_END at character 2"},
		{`local v, err = require("cjson.safe").encode(print) return tostring(v) .. "|" .. err`, "nil|Cannot serialise function: type not supported"},
		{`return require("cjson.safe").encode({1})`, "[1]"},
		// Kong's globalpatches apply to cjson.safe only
		{`return require("cjson.safe").encode(1/3) .. " " .. require("cjson").encode(1/3)`, "0.3333333333333333 0.33333333333333"},
		{`return require("cjson.safe").encode({[1] = 1, [100] = 2}):sub(1, 8)`, "[1,null,"},
		{`return require("cjson.safe").new().encode(1/3)`, "0.33333333333333"},
	}
	for _, c := range cases {
		if got := pdktest.Str(t, in, c.src); got != c.want {
			t.Errorf("%s = %s, want %s", c.src, got, c.want)
		}
	}
}

func luaQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

func BenchmarkCJSONEncodeSmall(b *testing.B) {
	in, _ := pdktest.New(b)
	pdktest.Run(b, in, "bench.lua", `
local cjson = require "cjson"
local t = { id = "2a9b3c", name = "key-auth", enabled = true, config = { key_names = { "apikey" }, hide_credentials = false }, created_at = 1700000000 }
function bench() return cjson.encode(t) end`)
	fn := in.L.GetGlobal("bench")
	b.ReportAllocs()
	for b.Loop() {
		in.L.Push(fn)
		in.L.Call(0, 1)
		in.L.Pop(1)
	}
}

func BenchmarkCJSONDecodeSmall(b *testing.B) {
	in, _ := pdktest.New(b)
	pdktest.Run(b, in, "bench.lua", `
local cjson = require "cjson"
local s = '{"id":"2a9b3c","name":"key-auth","enabled":true,"config":{"key_names":["apikey"],"hide_credentials":false},"created_at":1700000000}'
function bench() return cjson.decode(s) end`)
	fn := in.L.GetGlobal("bench")
	b.ReportAllocs()
	for b.Loop() {
		in.L.Push(fn)
		in.L.Call(0, 1)
		in.L.Pop(1)
	}
}

// FuzzCJSONDecode checks decode never panics, fails exactly when
// encoding/json rejects the document, and round-trips what it accepts.
func FuzzCJSONDecode(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}]}`, `[`, `{"a" 1}`, `"\u00e9"`, `1 2`, `[tru]`, ``, `{}`, `-`, `"\q"`} {
		f.Add(s)
	}
	in, _ := pdktest.New(f)
	c := cjson.NewCodec(in.L, in.Budget(), false)
	f.Fuzz(func(t *testing.T, s string) {
		v, err := c.Decode(in.L, s)
		valid := json.Valid([]byte(s))
		if (err == "") != valid {
			// lua-cjson reads NaN/Infinity-free JSON like encoding/json
			t.Fatalf("decode(%q): err=%q, json.Valid=%v", s, err, valid)
		}
		if err != "" {
			if !strings.HasPrefix(string(err), "Expected ") && !strings.HasPrefix(string(err), "Found too many") {
				t.Fatalf("decode(%q): odd error %q", s, err)
			}
			return
		}
		out, eerr := c.Encode(v)
		if eerr != "" {
			if strings.Contains(string(eerr), "sparse") || strings.Contains(string(eerr), "NaN or Infinity") {
				return
			}
			t.Fatalf("encode(decode(%q)): %s", s, eerr)
		}
		if !json.Valid([]byte(out)) {
			t.Fatalf("encode(decode(%q)) = %q is not JSON", s, out)
		}
	})
}

// A long decode stops at the worker's deadline (the state's context), and
// the deadline is raised even by cjson.safe, whose decoding errors are
// returned: the call is over, not the input wrong.
func TestCJSONDecodeStopsAtTheDeadline(t *testing.T) {
	in, _ := pdktest.New(t)
	L := in.L
	big := "[" + strings.Repeat("1,", 100000) + "1]"
	for _, mod := range []string{"cjson", "cjson.safe"} {
		vals := pdktest.Run(t, in, "d.lua", `return require("`+mod+`").decode`)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		L.SetContext(ctx)
		err := luavm.CallProtected(L, vals[0], 1, false, lua.LString(big))
		L.RemoveContext()
		if err == nil || !strings.Contains(err.Error(), "context canceled") {
			t.Errorf("%s.decode under a passed deadline: %v", mod, err)
		}
		L.SetTop(0)
	}
}
