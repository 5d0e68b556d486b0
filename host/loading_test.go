package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/rockspec"
)

// Kong's VERSION check (the `version` library, non-strict): cleaned to
// its numeric part, at most three parts.
func TestCleanVersion(t *testing.T) {
	for in, want := range map[string]string{
		"0.1-t": "0.1", "1.0": "1.0", "1.2.3": "1.2.3", "v2.0.1": "2.0.1", "3.10.0-alpha.1": "3.10.0",
		"1.0.": "1.0", "007.1": "7.1", "1": "1",
		"1.2.3.4": "", "1..2": "", "abc": "", "": "", "1.2.3.4-t": "",
	} {
		got, ok := CleanVersion(in)
		if ok != (want != "") || got != want {
			t.Errorf("CleanVersion(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// A handler's VERSION "0.1-t" loads as "0.1" (set back on the handler, as
// Kong does); "1.2.3.4" stops the start with Kong's message.
func TestVersionCheckedAsKong(t *testing.T) {
	c := testConf(t, "testdata/versions")
	c.Set("plugins", "v0-1-t", "test")
	h := newTestHost(t, c)
	if v := h.Plugin("v0-1-t").Version; v != "0.1" {
		t.Fatalf("version %q", v)
	}
	err := h.Pool.AcquireFunc(context.Background(), func(w *Worker) error {
		if got := w.plugins[0].handler.RawGetString("VERSION").String(); got != "0.1" {
			t.Errorf("handler.VERSION = %q", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c.Set("plugins", "four", "test")
	_, err = New(Options{Conf: c, Logger: quietLogger()})
	if err == nil || !strings.Contains(err.Error(), `Plugin "four" cannot be loaded because its VERSION field does not follow the "x.y.z" format, got: "1.2.3.4".`) {
		t.Fatalf("got %v", err)
	}
}

// Migrations are read when a migrations command or a database needs them:
// a plugin whose migrations index names a missing file loads DB-less, and
// the error (plugin, file, line) comes with LoadMigrations / Subsystems.
func TestBrokenMigrationsRunDBLess(t *testing.T) {
	c := testConf(t, "testdata/broken")
	c.Set("plugins", "missing-migration", "test")
	h := newTestHost(t, c)
	if h.Plugin("missing-migration") == nil {
		t.Fatal("not loaded")
	}
	errs := h.LoadMigrations()
	if len(errs) != 1 || errs[0].File != "kong/plugins/missing-migration/migrations/init.lua" || errs[0].Line != 3 ||
		!strings.Contains(errs[0].Msg, "001_not_there") {
		t.Fatalf("LoadMigrations: %v", errs)
	}
	if _, err := h.Subsystems(); err == nil || !strings.Contains(err.Error(), "001_not_there") {
		t.Fatalf("Subsystems: %v", err)
	}
}

// A repository root with a rockspec: its plugins (two in one rock, under
// src/) are named as `luarocks make` installs them, a module outside
// kong.plugins.* is requirable, a file the rockspec does not install is
// not, and require "ngx" answers the ngx table.
func TestRockLayout(t *testing.T) {
	h := newTestHost(t, testConf(t, "testdata/rock"))
	var names []string
	for _, p := range h.Plugins {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "rocky-two,rocky" {
		t.Fatalf("plugins %v", names)
	}
	p := h.Plugin("rocky")
	if abs, _ := filepath.Abs("testdata/rock/src/rocky"); p.Dir != abs || p.Version != "0.1.0" ||
		filepath.Base(p.Rock) != "kong-plugin-rocky-0.1.0-1.rockspec" {
		t.Fatalf("rocky: %+v", p)
	}
	err := h.Pool.AcquireFunc(context.Background(), func(w *Worker) error {
		cfg := w.L.NewTable()
		cfg.RawSetString("who", lua.LString("rocks"))
		if err := w.RunPhase("rocky", "access", cfg); err != nil {
			return err
		}
		if got := w.L.GetField(w.In.Ctx, "rocky").String(); got != "hello rocks" {
			t.Errorf("ngx.ctx.rocky = %q", got)
		}
		if got := w.L.GetField(w.In.Ctx, "same_ngx"); got != lua.LTrue {
			t.Errorf(`require "ngx" ~= ngx`)
		}
		if err := w.DoString("t.lua", `assert(not pcall(require, "stray"))`); err != nil {
			t.Errorf("a module the rockspec does not install was requirable: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// writeTree lays out a LuaRocks tree the way `luarocks --tree` leaves it:
// the manifest, one pure-Lua rock and one compiled module.
func writeTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		rockspec.ManifestPath: `commands = {}
modules = { ["resty.thing"] = { "lua-resty-thing/0.3.1-1" }, ["fastthing"] = { "fastthing/1.0-1" } }
repository = {
  ["lua-resty-thing"] = { ["0.3.1-1"] = { { arch = "installed", commands = {}, dependencies = {},
    modules = { ["resty.thing"] = "resty/thing.lua" } } } },
  ["fastthing"] = { ["1.0-1"] = { { arch = "installed", commands = {}, dependencies = {},
    modules = { ["fastthing"] = "fastthing.so" } } } },
}
`,
		"share/lua/5.1/resty/thing.lua": `local M = {} function M.value() return "from the tree" end return M`,
		"lib/lua/5.1/fastthing.so":      "\x7fELF",
	}
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// A plugin needing a pure-Lua third-party rock loads once the rock is in
// a tree given with --rocks-tree (lua_rocks_trees); without it, the error
// names the module, the rock its rockspec lists, and how to install it.
// One needing a rock nobody installed gets the same message.
func TestRocksTreeAndMissingRock(t *testing.T) {
	tree := writeTree(t)
	c := testConf(t, "testdata/rock-needs")
	c.Set("plugins", "needs-thing", "test")
	c.Append("lua_rocks_trees", tree, "test")
	h := newTestHost(t, c)
	err := h.Pool.AcquireFunc(context.Background(), func(w *Worker) error {
		if err := w.RunPhase("needs-thing", "access", w.L.NewTable()); err != nil {
			return err
		}
		if got := w.L.GetField(w.In.Ctx, "thing").String(); got != "from the tree" {
			t.Errorf("ngx.ctx.thing = %q", got)
		}
		err := w.DoString("c.lua", `require "fastthing"`)
		if err == nil || !strings.Contains(err.Error(), "module 'fastthing' is a C module ("+filepath.Join(tree, "lib/lua/5.1/fastthing.so")+"): luahost runs pure-Lua modules only") {
			t.Errorf("C module: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ plugin, module, rock string }{
		{"needs-thing", "resty.thing", "lua-resty-thing"},
		{"needs-absent", "resty.absent", "lua-resty-absent"},
	} {
		c := testConf(t, "testdata/rock-needs")
		c.Set("plugins", tc.plugin, "test")
		_, err := New(Options{Conf: c, Logger: quietLogger()})
		var pe *PluginErrors
		if !errors.As(err, &pe) || len(pe.Errs) != 1 {
			t.Fatalf("%s: %v", tc.plugin, err)
		}
		le := pe.Errs[0]
		want := "module '" + tc.module + "' not found: not installed; rock " + tc.rock +
			" provides it (a dependency in kong-plugin-needs-thing-1.0.0-1.rockspec): install it with `luarocks install " + tc.rock + "`"
		if le.Module != tc.module || le.Rock != tc.rock || !strings.HasPrefix(le.Msg, want) {
			t.Errorf("%s: module %q rock %q\n%s\nwant prefix %s", tc.plugin, le.Module, le.Rock, le.Msg, want)
		}
	}
}

// A rock whose module is built from C is refused by name.
func TestRockWithCSources(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"c-1.0-1.rockspec": `package = "kong-plugin-c"; version = "1.0-1"
build = { type = "builtin", modules = {
  ["kong.plugins.c.handler"] = "handler.lua", ["kong.plugins.c.schema"] = "schema.lua",
  ["c.native"] = { sources = { "native.c" } } } }`,
		"handler.lua": `local n = require "c.native" return { PRIORITY = 1, VERSION = "1.0.0" }`,
		"schema.lua":  `return { name = "c", fields = { { config = { type = "record", fields = {} } } } }`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := New(Options{Conf: testConf(t, dir), Logger: quietLogger()})
	var pe *PluginErrors
	if !errors.As(err, &pe) || pe.Errs[0].Module != "c.native" ||
		!strings.Contains(pe.Errs[0].Msg, "module 'c.native' is a C module (native.c in c-1.0-1.rockspec): luahost runs pure-Lua modules only") {
		t.Fatalf("got %v", err)
	}
}

// plugins = bundled: Kong's bundled names found on the Lua path (not other
// plugins there) plus the plugins dirs'; a bundled one lacking a module is
// skipped with the module named, but stops the start when named.
func TestBundledAsKong(t *testing.T) {
	c := testConf(t, "testdata/repo")
	c.Set("lua_package_path", "testdata/bundledpath/?.lua;;", "test")
	h := newTestHost(t, c)
	var names []string
	for _, p := range h.Plugins {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "cors,repo-plugin" {
		t.Fatalf("enabled %v", names)
	}
	if h.Plugin("cors").Version != "3.10.0" {
		t.Fatalf("cors version %q", h.Plugin("cors").Version)
	}
	// Kong's own plugins (bundled, on the Lua path) have only
	// migrations/init.lua's migrations: a dead 0.x migrations/postgres.lua
	// beside them is not run, as Kong >= 1.0 never runs it
	if errs := h.LoadMigrations(); len(errs) != 0 || len(h.Plugin("cors").Migrations) != 0 {
		t.Fatalf("cors migrations %v, errors %v", h.Plugin("cors").Migrations, errs)
	}
	if len(h.Skipped) != 1 || h.Skipped[0].Name != "jwt" || h.Skipped[0].Module != "ffi" ||
		!strings.Contains(h.Skipped[0].Err.Msg, "LuaJIT's ffi") {
		t.Fatalf("skipped %+v", h.Skipped)
	}
	// every worker has the same plugins (the pool builds more)
	if err := h.Pool.AcquireFunc(context.Background(), func(w *Worker) error {
		if w.byName["jwt"] != nil {
			t.Error("jwt in a worker")
		}
		// kong.configuration.loaded_plugins: "bundled" expanded, as
		// Kong's conf_loader does, to the plugins the node runs
		if err := w.L.DoString(`local t = {} for k in pairs(kong.configuration.loaded_plugins) do t[#t+1] = k end
			table.sort(t) loaded = table.concat(t, ",")`); err != nil {
			t.Fatal(err)
		}
		if got := w.L.GetGlobal("loaded").String(); got != "cors,repo-plugin" {
			t.Errorf("loaded_plugins %s", got)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	c.Set("plugins", "bundled,jwt", "test")
	_, err := New(Options{Conf: c, Logger: quietLogger()})
	var pe *PluginErrors
	if !errors.As(err, &pe) || pe.Errs[0].Plugin != "jwt" || pe.Errs[0].Module != "ffi" {
		t.Fatalf("jwt named: %v", err)
	}
}

// The Go list of bundled plugins is the one the kong.constants shim
// answers.
func TestBundledPluginsMatchConstants(t *testing.T) {
	h := newTestHost(t, testConf(t, "testdata/repo"))
	err := h.Pool.AcquireFunc(context.Background(), func(w *Worker) error {
		if err := w.DoString("t.lua", `local n = 0 for _ in pairs(require("kong.constants").BUNDLED_PLUGINS) do n = n + 1 end _G.n = n`); err != nil {
			return err
		}
		if n := w.L.GetGlobal("n").(lua.LNumber); int(n) != len(BundledPlugins) {
			t.Errorf("constants has %d, Go %d", int(n), len(BundledPlugins))
		}
		for _, b := range BundledPlugins {
			if err := w.DoString("t.lua", `assert(require("kong.constants").BUNDLED_PLUGINS["`+b+`"])`); err != nil {
				t.Errorf("%s: %v", b, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Two bundled plugins sharing a dependency that needs a missing module:
// the second one's "loop or previous error loading module" is traced back
// to the module really missing, so both are skipped naming it.
func TestRootCause(t *testing.T) {
	c := testConf(t, "testdata/repo")
	c.Set("lua_package_path", "testdata/bundledshared/?.lua;;", "test")
	h := newTestHost(t, c)
	if len(h.Skipped) != 2 {
		t.Fatalf("skipped %+v", h.Skipped)
	}
	for _, s := range h.Skipped {
		if s.Module != "resty.absent_dep" || !strings.Contains(s.Err.Msg, "module 'resty.absent_dep' not found") {
			t.Errorf("%s: module %q: %s", s.Name, s.Module, s.Err.Msg)
		}
	}
	if !strings.Contains(h.Skipped[1].Err.Msg, "(required through shared_dep)") {
		t.Errorf("second: %s", h.Skipped[1].Err.Msg)
	}
}
