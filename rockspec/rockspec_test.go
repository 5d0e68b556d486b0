package rockspec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const twoPlugins = `
local name = "kong-plugin-pair"
package = name
version = "1.2.0-1"
source = { url = "git+https://example.com/pair.git", tag = version:gsub("%-%d+$", "") }
dependencies = {
  "lua >= 5.1",
  "lua-resty-jwt ~> 0.2",
  "penlight",
  "lyaml>=6",
}
local function plugin(n)
  return {
    ["kong.plugins." .. n .. ".handler"] = "src/" .. n .. "/handler.lua",
    ["kong.plugins." .. n .. ".schema"] = "src/" .. n .. "/schema.lua",
  }
end
build = {
  type = "builtin",
  modules = {
    ["kong.plugins.alpha.handler"] = "src/alpha/handler.lua",
    ["kong.plugins.alpha.schema"] = "src/alpha/schema.lua",
    ["kong.plugins.beta.handler"] = "src/beta/handler.lua",
    ["kong.plugins.beta.schema"] = "src/beta/schema.lua",
    ["pair.util"] = "src/util.lua",
    ["pair.fast"] = { sources = { "csrc/fast.c", "csrc/helpers.c" } },
    ["pair.faster"] = "csrc/faster.c",
  },
}
`

func TestParseBuiltin(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "kong-plugin-pair-1.2.0-1.rockspec", twoPlugins)
	rs, err := Parse(p)
	if err != nil {
		t.Fatal(err)
	}
	if rs.Package != "kong-plugin-pair" || rs.Version != "1.2.0-1" || rs.BuildType != "builtin" {
		t.Fatalf("got %+v", rs)
	}
	if got := strings.Join(rs.Plugins(), ","); got != "alpha,beta" {
		t.Fatalf("plugins %q", got)
	}
	if m := rs.Modules["pair.util"]; m.C || m.File != filepath.Join(dir, "src", "util.lua") {
		t.Fatalf("pair.util: %+v", m)
	}
	if m := rs.Modules["pair.fast"]; !m.C || strings.Join(m.Sources, ",") != "csrc/fast.c,csrc/helpers.c" {
		t.Fatalf("pair.fast: %+v", m)
	}
	if m := rs.Modules["pair.faster"]; !m.C {
		t.Fatalf("pair.faster: %+v", m)
	}
	want := []Dependency{{"lua", ">= 5.1"}, {"lua-resty-jwt", "~> 0.2"}, {"penlight", ""}, {"lyaml", ">=6"}}
	if len(rs.Dependencies) != len(want) {
		t.Fatalf("deps %+v", rs.Dependencies)
	}
	for i, d := range want {
		if rs.Dependencies[i] != d {
			t.Fatalf("dep %d: %+v, want %+v", i, rs.Dependencies[i], d)
		}
	}
	for mod, rock := range map[string]string{"resty.jwt": "lua-resty-jwt", "pl.path": "penlight", "lyaml": "lyaml", "resty.redis": "", "cjson": ""} {
		if got := rs.ProviderOf(mod); got != rock {
			t.Errorf("ProviderOf(%s) = %q, want %q", mod, got, rock)
		}
	}
}

func TestParseInstallLua(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "x-1.0-1.rockspec", `package = "x"; version = "1.0-1"
build = { type = "make", install = { lua = { ["kong.plugins.x.handler"] = "kong/plugins/x/handler.lua" } } }`)
	rs, err := Parse(p)
	if err != nil {
		t.Fatal(err)
	}
	if rs.BuildType != "make" || strings.Join(rs.Plugins(), ",") != "x" {
		t.Fatalf("got %+v", rs)
	}
}

// The rockspec runs with nothing in reach: no os, io or require.
func TestParseSandboxed(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{
		"os.rockspec":      `package = "x"; os.execute("true")`,
		"require.rockspec": `package = require("os")`,
		"syntax.rockspec":  "package = \n\n = 1",
		"nopkg.rockspec":   `version = "1.0-1"`,
		"badmod.rockspec":  `package = "x"; build = { modules = { ["a"] = 12 } }`,
		"baddep.rockspec":  `package = "x"; dependencies = { {} }`,
	} {
		p := write(t, dir, name, src)
		_, err := Parse(p)
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v, want one naming the file", name, err)
		}
	}
	_, err := Parse(write(t, dir, "line.rockspec", "package = 'x'\nlocal y = nil\ny.z = 1\n"))
	if err == nil || !strings.Contains(err.Error(), "line.rockspec:3:") {
		t.Errorf("runtime error %v, want its line", err)
	}
}

func TestParseLoopStops(t *testing.T) {
	old := Deadline
	Deadline = 100 * time.Millisecond
	defer func() { Deadline = old }()
	dir := t.TempDir()
	_, err := Parse(write(t, dir, "loop.rockspec", "package = 'x' while true do end"))
	if err == nil || !strings.Contains(err.Error(), "did not finish") {
		t.Fatalf("got %v", err)
	}
}

func TestFind(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "b-1.0-1.rockspec", "")
	write(t, dir, "a-1.0-1.rockspec", "")
	write(t, dir, "sub/c-1.0-1.rockspec", "")
	got, err := Find(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || filepath.Base(got[0]) != "a-1.0-1.rockspec" {
		t.Fatalf("got %v", got)
	}
}

const manifest = `
commands = {}
modules = {
  ["resty.thing"] = { "lua-resty-thing/0.3.0-1" },
  ["thing_c"] = { "lua-resty-thing/0.3.0-1" },
}
repository = {
  ["lua-resty-thing"] = {
    ["0.3.0-1"] = {
      { arch = "installed", commands = {}, dependencies = {},
        modules = { ["resty.thing"] = "resty/thing.lua", ["thing_c"] = "thing_c.so",
                    ["resty.gone"] = "resty/gone.lua" } },
    },
  },
}
`

func TestTree(t *testing.T) {
	root := t.TempDir()
	write(t, root, ManifestPath, manifest)
	write(t, root, "share/lua/5.1/resty/thing.lua", "return {}")
	write(t, root, "lib/lua/5.1/thing_c.so", "")
	write(t, root, "share/lua/5.1/loose/init.lua", "return {}")
	tr, err := OpenTree(root)
	if err != nil {
		t.Fatal(err)
	}
	m, ok, _ := tr.Find("resty.thing")
	if !ok || m.Rock != "lua-resty-thing" || m.Version != "0.3.0-1" || m.C || m.File != filepath.Join(root, "share/lua/5.1/resty/thing.lua") {
		t.Fatalf("resty.thing: %+v %v", m, ok)
	}
	if m, ok, _ := tr.Find("thing_c"); !ok || !m.C || m.Rock != "lua-resty-thing" {
		t.Fatalf("thing_c: %+v", m)
	}
	if m, ok, _ := tr.Find("loose"); !ok || m.Rock != "" || m.File != filepath.Join(root, "share/lua/5.1/loose/init.lua") {
		t.Fatalf("loose: %+v", m)
	}
	// in the manifest, file missing: found with its rock (the caller
	// reports the file)
	if m, ok, _ := tr.Find("resty.gone"); !ok || m.Rock != "lua-resty-thing" || fileExists(m.File) {
		t.Fatalf("resty.gone: %+v", m)
	}
	if _, ok, tried := tr.Find("nope.x"); ok || len(tried) != 3 {
		t.Fatalf("nope.x: %v %v", ok, tried)
	}
	if strings.Join(tr.Modules(), ",") != "resty.gone,resty.thing,thing_c" {
		t.Fatalf("modules %v", tr.Modules())
	}
}

func TestTreeErrors(t *testing.T) {
	if _, err := OpenTree(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Fatal("missing tree accepted")
	}
	root := t.TempDir()
	write(t, root, ManifestPath, "repository = {")
	if _, err := OpenTree(root); err == nil || !strings.Contains(err.Error(), "manifest") {
		t.Fatalf("bad manifest: %v", err)
	}
	empty := t.TempDir()
	if tr, err := OpenTree(empty); err != nil || len(tr.Modules()) != 0 {
		t.Fatalf("tree without manifest: %v", err)
	}
}
