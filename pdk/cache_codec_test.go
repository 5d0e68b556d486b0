package pdk

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/kongdb/cache"
)

func TestLuaCodecRoundTrip(t *testing.T) {
	in, _ := newShimState(t)
	L := in.L
	vals := run(t, in, "codec.lua", `
local cjson = require "cjson"
return {
  s = "str", n = 1.5, big = 2^53 + 2, neg = -7, t = true, f = false, null = ngx.null,
  arr = { 1, "two", { three = 3 } }, empty_arr = setmetatable({}, cjson.array_mt),
  empty_obj = {}, [10] = "ten", [true] = "yes", mixed = { "a", "b", x = "y" },
}, { 1, nil, 3 }`)
	var e = cache.NewEncoder()
	var d luaDecoder
	for i, v := range vals {
		e.Reset()
		if err := encodeLua(L, e, v); err != nil {
			t.Fatal(err)
		}
		back, err := d.decode(L, append([]byte(nil), e.Bytes()...))
		if err != nil {
			t.Fatal(err)
		}
		L.SetGlobal("orig", v)
		L.SetGlobal("back", back)
		got := str(t, in, `
local function same(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then return a == b end
  if getmetatable(a) ~= getmetatable(b) then return false end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end
return tostring(same(orig, back)) .. " " .. tostring(rawequal(orig, back))`)
		if got != "true false" {
			t.Fatalf("value %d did not round-trip: %s", i, got)
		}
	}
}

func TestLuaCodecRefusals(t *testing.T) {
	in, _ := newShimState(t)
	L := in.L
	for src, want := range map[string]string{
		`return print`:                                "cannot cache value of type function",
		`return { f = print }`:                        "cannot cache value of type function",
		`return { [{}] = 1 }`:                         "cannot cache value of type table",
		`return coroutine.create(function() end)`:     "cannot cache value of type thread",
		`local t = {}; t.self = t; return t`:          "tables nested too deeply",
		`return newproxy and newproxy() or io.stdout`: "cannot cache value of type userdata",
	} {
		v := run(t, in, "r.lua", src)[0]
		err := encodeLua(L, cache.NewEncoder(), v)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", src, err, want)
		}
	}
	var d luaDecoder
	if _, err := d.decode(L, []byte{0x07, 0, 9, 0, 0, 0, 0, 0, 0, 0}); err == nil {
		t.Fatal("corrupt input decoded")
	}
	_ = lua.LNil
}
