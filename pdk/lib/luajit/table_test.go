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
