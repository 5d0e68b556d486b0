package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// Plugins are found in a repository root (kong/plugins/<name>/) given as a
// plugins dir, and under lua_package_path entries as Kong finds them; their
// other modules resolve the same way.
func TestDiscoveryRepoRootAndPackagePath(t *testing.T) {
	c := testConf(t, "testdata/repo")
	c.Set("lua_package_path", "testdata/pkgpath/?.lua;testdata/pkgpath/?/init.lua;;", "test")
	// as in Kong, `bundled` enables Kong's bundled names found on the Lua
	// path, not every plugin there: path-plugin is named
	if only := newTestHost(t, c); only.Plugin("path-plugin") != nil || only.Plugin("repo-plugin") == nil {
		t.Fatalf("plugins = bundled enabled %v", only.Plugins)
	}
	c.Set("plugins", "bundled,path-plugin", "test")
	h := newTestHost(t, c)
	var names []string
	for _, p := range h.Plugins {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "path-plugin,repo-plugin" {
		t.Fatalf("plugins in priority order: %v", names)
	}
	if p := h.Plugin("repo-plugin"); p.Version != "2.0" || p.Priority != 20 || strings.Join(p.Phases, ",") != "access" {
		t.Fatalf("repo-plugin description: %+v", p)
	}
	err := h.Pool.AcquireFunc(context.Background(), func(w *Worker) error {
		if err := w.RunPhase("repo-plugin", "access", lua.LNil); err != nil {
			return err
		}
		if err := w.RunPhase("path-plugin", "rewrite", lua.LNil); err != nil {
			return err
		}
		if got := w.L.GetField(w.In.Ctx, "helper").String(); got != "repo helper" {
			t.Errorf("ngx.ctx.helper = %q", got)
		}
		if got := w.L.GetField(w.In.Ctx, "lib").String(); got != "42" {
			t.Errorf("ngx.ctx.lib = %q", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The plugins property names the enabled plugins; an unknown one is Kong's
// "enabled but not installed" error.
func TestPluginsProperty(t *testing.T) {
	c := testConf(t, "testdata/good", "testdata/repo")
	c.Set("plugins", "repo-plugin", "test")
	h := newTestHost(t, c)
	if len(h.Plugins) != 1 || h.Plugins[0].Name != "repo-plugin" {
		t.Fatalf("enabled: %+v", h.Plugins)
	}
	c.Set("plugins", "bundled,nope", "test")
	_, err := New(Options{Conf: c, Logger: quietLogger()})
	if err == nil || !strings.Contains(err.Error(), "nope plugin is enabled but not installed;") {
		t.Fatalf("want Kong's not-installed error, got %v", err)
	}
	c.Set("plugins", "off", "test")
	h = newTestHost(t, c)
	if len(h.Plugins) != 0 {
		t.Fatalf("plugins = off enabled %d plugins", len(h.Plugins))
	}
}

// Embedded modules come first, then plugin directories, then
// lua_package_path; a module that is nowhere lists where it was looked for.
func TestModuleResolutionOrder(t *testing.T) {
	r := &Resolver{Plugins: map[string]string{"repo-plugin": "testdata/repo/kong/plugins/repo-plugin"},
		Templates: []string{"testdata/pkgpath/?.lua"}}
	if m, _ := r.Find("kong.plugins.base_plugin"); m == nil || !strings.HasPrefix(m.Path, "embedded:") {
		t.Fatalf("kong.plugins.base_plugin should be embedded, got %+v", m)
	}
	if m, _ := r.Find("kong.plugins.repo-plugin.helper"); m == nil || m.Chunk != "kong/plugins/repo-plugin/helper.lua" {
		t.Fatalf("plugin module: %+v", m)
	}
	if m, _ := r.Find("mylib.util"); m == nil || m.Path != "testdata/pkgpath/mylib/util.lua" {
		t.Fatalf("package path module: %+v", m)
	}
	m, tried := r.Find("no.such.module")
	if m != nil || len(tried) == 0 || !strings.Contains(strings.Join(tried, "\n"), "testdata/pkgpath/no/such/module.lua") {
		t.Fatalf("missing module: %+v %v", m, tried)
	}
}

// spec.fixtures.ssl is embedded, and a repository's own spec/fixtures/ssl.lua
// (a copy of Kong's) wins over it.
func TestSSLFixturesYieldToRepository(t *testing.T) {
	if m, _ := (&Resolver{}).Find("spec.fixtures.ssl"); m == nil || m.Path != "embedded:spec/fixtures/ssl.lua" {
		t.Fatalf("without a repository file: %+v", m)
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "spec", "fixtures"), 0o755); err != nil {
		t.Fatal(err)
	}
	own := filepath.Join(root, "spec", "fixtures", "ssl.lua")
	if err := os.WriteFile(own, []byte("return { cert = 'mine' }"), 0o644); err != nil {
		t.Fatal(err)
	}
	if m, _ := (&Resolver{Roots: []string{root}}).Find("spec.fixtures.ssl"); m == nil || m.Path != own {
		t.Fatalf("with the repository's file: %+v", m)
	}
}

// Each file is compiled once per process: every worker instantiates the
// same prototype.
func TestCompiledChunkCache(t *testing.T) {
	c := testConf(t, "testdata/repo")
	h := newTestHost(t, c)
	before := 0
	h.cache.m.Range(func(_, _ any) bool { before++; return true })
	w, _, errs := h.newWorker(7, false)
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	defer w.Close()
	after := 0
	h.cache.m.Range(func(_, _ any) bool { after++; return true })
	if before == 0 || after != before {
		t.Fatalf("a second worker compiled again: %d prototypes before, %d after", before, after)
	}
}

// daos.lua as a map (the seed's form) loads referenced entities first
// (Kong/kong#7911); a BasePlugin subclass is instantiated as Kong 2.x does.
func TestMapDaosOrderAndBasePlugin(t *testing.T) {
	c := testConf(t, "testdata/good")
	c.Set("plugins", "mapdaos", "test")
	h, err := New(Options{Conf: c, Logger: quietLogger(), NoDB: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	p := h.Plugin("mapdaos")
	if got := strings.Join(p.Entities(), ","); got != "mm_grands,aa_parents,zz_children" {
		t.Fatalf("entity order %s", got)
	}
	if !p.MapDaos || !p.Legacy || strings.Join(p.Phases, ",") != "access" {
		t.Fatalf("description: %+v", p)
	}
	err = h.Pool.AcquireFunc(context.Background(), func(w *Worker) error {
		return w.RunPhase("mapdaos", "access", lua.LNil)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// api.lua is compiled when the plugin loads (its syntax errors are load
// errors with a line) but run only by the Admin API, as in Kong.
func TestAPIModuleCompiledNotRun(t *testing.T) {
	h := newTestHost(t, testConf(t, "testdata/api"))
	if p := h.Plugin("with-api"); p == nil || !p.HasAPI {
		t.Fatalf("with-api: %+v", p)
	}
	_, err := New(Options{Conf: testConf(t, "testdata/api-broken"), Logger: quietLogger()})
	var pe *PluginErrors
	if !errors.As(err, &pe) || len(pe.Errs) != 1 || pe.Errs[0].File != "kong/plugins/bad-api/api.lua" || pe.Errs[0].Line != 4 {
		t.Fatalf("want one error at kong/plugins/bad-api/api.lua:4, got %v", err)
	}
	// as luac5.1 -p says: api.lua:4: ')' expected near '{'
	if le := pe.Errs[0]; le.Msg != "')' expected near '{'" {
		t.Errorf("message %q, want the Lua 5.1 one", le.Msg)
	}
}

// An entity definition Kong's MetaSchema rejects fails the plugin, naming
// plugin, entity, the attribute, file and line.
func TestInvalidEntityDefinitions(t *testing.T) {
	_, err := New(Options{Conf: testConf(t, "testdata/baddefs"), Logger: quietLogger()})
	var pe *PluginErrors
	if !errors.As(err, &pe) || len(pe.Errs) != 2 {
		t.Fatalf("want 2 plugin errors, got %v", err)
	}
	want := map[string]string{
		"unknown-attr": "schema of custom plugin entity 'unknown-attr.widgets' is invalid: [off] schema violation (fields.1: {\n  bogus_attr = \"unknown field\"\n})",
		"bad-ref":      "schema of custom plugin entity 'bad-ref.things' is invalid: schema refers to an invalid foreign entity: nobody",
	}
	for _, le := range pe.Errs {
		if le.Msg != want[le.Plugin] || le.File != "kong/plugins/"+le.Plugin+"/daos.lua" || le.Line != 3 {
			t.Errorf("%s: %s:%d: %q", le.Plugin, le.File, le.Line, le.Msg)
		}
	}
}
