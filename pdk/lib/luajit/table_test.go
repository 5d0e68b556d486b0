package luajit_test

import (
	"strings"
	"testing"

	"github.com/luahost/luahost/pdk/pdktest"
)

func TestTableModules(t *testing.T) {
	in, _ := pdktest.New(t)
	cases := map[string]string{
		`return require("table.nkeys")({1, 2, a = 3}) .. tostring(require("table.isempty")({})) .. tostring(require("table.isempty")({1}))`:                   "3truefalse",
		`return tostring(require("table.isarray")({1, 2, [4] = 4})) .. tostring(require("table.isarray")({a = 1})) .. tostring(require("table.isarray")({}))`: "truefalsetrue",
		`local o = setmetatable({1, a = {}}, {}) local c = require("table.clone")(o) return tostring(c.a == o.a) .. c[1] .. tostring(getmetatable(c))`:        "true1nil",
		`local new = require "table.new" local clear = require "table.clear" local t = new(0, 1) t[1] = 1 clear(t) return #t`:                                 "0",
	}
	for src, want := range cases {
		if got := pdktest.Str(t, in, src); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
	}
	// table.new's preallocation is charged to the worker's memory budget
	if msg := pdktest.LuaErr(t, in, `require("table.new")(1e12, 0)`); !strings.Contains(msg, "not enough memory") {
		t.Errorf("table.new(1e12): %q", msg)
	}
}

// OpenResty's LuaJIT: requiring table.X also sets table.X in the table
// library (Kong's specs call table.clone once kong.tools.table required it).
func TestTableModuleSetsLibraryField(t *testing.T) {
	in, _ := pdktest.New(t)
	src := `local before = table.isarray require "table.isarray" return tostring(before) .. tostring(table.isarray({1}))`
	if got := pdktest.Str(t, in, src); got != "niltrue" {
		t.Errorf("%s = %q", src, got)
	}
}

// LuaJIT's bit module, with its results (signed 32-bit, arguments wrapped
// modulo 2^32 and rounded).
func TestBitModule(t *testing.T) {
	in, _ := pdktest.New(t)
	cases := map[string]string{
		`local bit = require "bit" return bit.band(0x12345678, 0xff) .. " " .. bit.bor(1, 2, 4) .. " " .. bit.bxor(5, 3)`: "120 7 6",
		`local bit = require "bit" return bit.tobit(0xffffffff) .. " " .. bit.tobit(2^32 + 1) .. " " .. bit.bnot(0)`:      "-1 1 -1",
		`local bit = require "bit" return bit.lshift(1, 31) .. " " .. bit.lshift(1, 33) .. " " .. bit.rshift(-1, 28)`:     "-2147483648 2 15",
		`local bit = require "bit" return bit.arshift(-256, 4) .. " " .. bit.rol(0x80000001, 1) .. " " .. bit.ror(1, 1)`:  "-16 3 -2147483648",
		`local bit = require "bit" return bit.tohex(255) .. " " .. bit.tohex(-1, -4) .. " " .. bit.tohex(0x1234, 2)`:      "000000ff FFFF 34",
		`local bit = require "bit" return bit.bswap(0x12345678) .. " " .. bit.tobit(1.5) .. " " .. bit.tobit(2.5)`:        "2018915346 2 2",
	}
	for src, want := range cases {
		if got := pdktest.Str(t, in, src); got != want {
			t.Errorf("%s = %q, want %q", src, got, want)
		}
	}
}
