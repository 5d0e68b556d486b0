package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// `luahost plugins --plugins-dir .` in a repository with a rockspec names
// its plugins as Kong would after `luarocks make`; a plugin needing a rock
// not installed stops with the module, the rock and how to install it; a
// plugin whose migrations are broken is listed (they matter only with a
// database).
func TestPluginsFromARock(t *testing.T) {
	code, out, errs := runCLI(t, "plugins", "--plugins-dir", "../../host/testdata/rock")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"rocky-two 1.0", "rocky 0.1.0", "rock:       kong-plugin-rocky-0.1.0-1.rockspec", "host/testdata/rock/src/rocky\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	code, _, errs = runCLI(t, "plugins", "--plugins-dir", "../../host/testdata/rock-needs", "--plugins", "needs-absent")
	if code == 0 || !strings.Contains(errs, "module 'resty.absent' not found: not installed; rock lua-resty-absent provides it") ||
		!strings.Contains(errs, "`luarocks install lua-resty-absent`") || !strings.Contains(errs, "local absent = require \"resty.absent\"") {
		t.Fatalf("exit %d:\n%s", code, errs)
	}
	code, out, errs = runCLI(t, "plugins", "--plugins-dir", "../../host/testdata/broken", "--plugins", "missing-migration")
	if code != 0 || !strings.Contains(out, "migrations: broken (needed only with a database):") || !strings.Contains(out, "001_not_there") {
		t.Fatalf("exit %d:\n%s\n%s", code, out, errs)
	}
}

// plugins = bundled with Kong-named plugins on the Lua path: the one that
// needs a module luahost lacks is listed apart, with the module.
func TestPluginsListsSkippedBundled(t *testing.T) {
	code, out, errs := runCLI(t, "plugins", "--plugins-dir", "../../host/testdata/repo",
		"--lua-package-path", "../../host/testdata/bundledpath/?.lua")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"cors 3.10.0", "repo-plugin 2.0", "not loaded (1 bundled plugins needing what luahost lacks):", "jwt: needs ffi"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "not-bundled") {
		t.Errorf("a non-bundled plugin on the Lua path was enabled by `bundled`:\n%s", out)
	}
}

// --report, as text and JSON.
func TestPluginsReport(t *testing.T) {
	code, out, errs := runCLI(t, "plugins", "--plugins-dir", "../../host/testdata/generations", "--report")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"oldie: 0.x, 0.x-2.x\n  Kong accepting it: before 0.11.0 (refused from 0.11.0 on)",
		"  - kong.tools.database_cache [0.x] removed in 0.11.0: require fails, the plugin does not load (handler.lua:3)",
		"twoer: 0.x-2.x, 1.0-3.3, PDK 0.14+\n  Kong accepting it: 0.14.0 up to 3.0.0",
		"mixed: 0.x, 1.2+\n  Kong accepting it: none (needs 1.2.0 or later, refused from 0.11.0 on); luahost runs it",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	code, out, errs = runCLI(t, "plugins", "--plugins-dir", "../../host/testdata/generations", "--report", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep []struct {
		Plugin   string `json:"plugin"`
		Until    string `json:"until"`
		Accepted bool   `json:"accepted_by_some_kong"`
		APIs     []struct {
			API   string `json:"api"`
			Where string `json:"where"`
		} `json:"apis"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	byName := map[string]int{}
	for i, r := range rep {
		byName[r.Plugin] = i
	}
	if r := rep[byName["twoer"]]; len(rep) != 3 || r.Until != "3.0.0" || !r.Accepted || len(r.APIs) != 5 {
		t.Fatalf("json: %+v", rep)
	}
}
