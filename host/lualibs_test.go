package host

import (
	"context"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// Penlight and inspect come from Debian's lua-penlight and lua-inspect
// (scripts/ensure-lualibs.sh), found at the end of the default Lua path;
// their modules run in gopher-lua (Penlight's lfs is pdk/lib/lfs).
func TestSystemLuaLibs(t *testing.T) {
	h := newTestHost(t, testConf(t, "testdata/repo"))
	err := h.Pool.AcquireFunc(context.Background(), func(w *Worker) error {
		for name, src := range map[string]string{
			"pl.path":    `local path = require "pl.path" assert(path.join("a", "b") == "a/b", path.join("a", "b")) assert(path.basename("/x/y.lua") == "y.lua") assert(path.isdir("/"))`,
			"pl.utils":   `local utils = require "pl.utils" assert(#utils.split("a,b,c", ",") == 3)`,
			"pl.tablex":  `local tablex = require "pl.tablex" assert(tablex.deepcompare({a={1}}, {a={1}}))`,
			"pl.stringx": `local stringx = require "pl.stringx" assert(stringx.strip("  x ") == "x") assert(stringx.startswith("abc", "ab"))`,
			"pl.pretty":  `local pretty = require "pl.pretty" assert(pretty.write({1}, "") == "{1}", pretty.write({1}, ""))`,
			"pl.List":    `local List = require "pl.List" local l = List{1,2,3} assert(l:len() == 3)`,
			"pl.file":    `local file = require "pl.file" assert(file.read("/nonexistent/x") == nil)`,
			"pl.dir":     `local dir = require "pl.dir" assert(type(dir.getfiles) == "function")`,
			"pl.template": `local template = require "pl.template"
				local out = assert(template.substitute("hello $(who)\n# for i = 1, 2 do\n$(i)\n# end\n", { who = "you" }))
				assert(out == "hello you\n1\n2\n", out)`,
			"inspect": `local inspect = require "inspect" assert(inspect({a = 1}) == "{\n  a = 1\n}", inspect({a = 1}))`,
		} {
			if err := w.DoString(name+"_test.lua", src); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Penlight's pl.template, once installed, wins over our shim (a yielding
// shim); the shim, used where lua-penlight is absent, renders as Penlight.
func TestPlTemplateShimMatchesPenlight(t *testing.T) {
	h := newTestHost(t, testConf(t, "testdata/repo"))
	if m, _ := h.resolver.Find("pl.template"); m == nil || m.Path != "/usr/share/lua/5.1/pl/template.lua" {
		t.Fatalf("pl.template resolves to %+v, want Penlight's", m)
	}
	src, _, ok := embeddedModule("pl.template")
	if !ok {
		t.Fatal("no shim")
	}
	err := h.Pool.AcquireFunc(context.Background(), func(w *Worker) error {
		w.L.SetGlobal("shim_src", lua.LString(src))
		return w.DoString("cmp.lua", `
			local shim = assert(loadstring(shim_src, "=shim"))()
			local real = require "pl.template"
			local cases = {
				{ "Hello $(name)! $(a.b or 'x') $(1 + 2) $((f(2)))", { a = { b = "y" }, f = function(n) return n * 2 end } },
				{ "$(nothing)|$(f)|$(t)", { f = false, t = true } },
				{ "# for i = 1, 3 do\n$(i),\n# end\n", {} },
			}
			for i, c in ipairs(cases) do
				local want = assert(real.substitute(c[1], c[2]))
				local got = assert(shim.substitute(c[1], c[2]))
				assert(got == want, "case " .. i .. ": shim " .. got .. " penlight " .. want)
			end`)
	})
	if err != nil {
		t.Fatal(err)
	}
}
