package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/kongdb/postgres/pgtest"
)

// pluginRepo copies testdata/pluginrepo (a plugin repository in the
// template's layout: kong/plugins/greeter/, a rockspec, spec/) to a
// temporary directory and makes it the current directory.
func pluginRepo(t *testing.T) string {
	t.Helper()
	src, err := filepath.Abs("testdata/pluginrepo")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	err = filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	t.Setenv("KONG_DATABASE", "")
	t.Setenv("LUAHOST_STRATEGY", "")
	t.Setenv("KONG_LUA_PATH_OVERRIDE", "")
	return dir
}

// usePostgresEnv points the CLI at a fresh database of the test server,
// through Kong's environment variables (failing, not skipping, under CI).
func usePostgresEnv(t *testing.T) {
	t.Helper()
	pg := pgtest.NewDatabase(t)
	t.Setenv("KONG_PG_HOST", pg.Host)
	t.Setenv("KONG_PG_PORT", strconv.Itoa(pg.Port))
	t.Setenv("KONG_PG_USER", pg.User)
	t.Setenv("KONG_PG_PASSWORD", pg.Password)
	t.Setenv("KONG_PG_DATABASE", pg.Database)
}

// tapOK lists the names of the passing tests of a TAP output.
func tapOK(out string) []string {
	var names []string
	for _, l := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(l, "ok "); ok {
			_, name, _ := strings.Cut(rest, " - ")
			names = append(names, name)
		}
	}
	return names
}

// `luahost test` with no option in a plugin repository's root finds the
// plugin (kong/plugins/greeter, enabled by "bundled") and runs spec/: the
// schema, unit and integration specs, both strategies.
func TestTestPluginRepoAsItIs(t *testing.T) {
	pluginRepo(t)
	usePostgresEnv(t)
	code, out, errs := runCLI(t, "test", "-o", "TAP")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	got := strings.Join(tapOK(out), "\n")
	for _, want := range []string{"greeter: (schema) refuses the same header twice", "greeter: (unit) greets the client",
		"greeter: (proxy) [#postgres] shouts when asked to", "greeter: (proxy) [#off] shouts when asked to", "util adds"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	if n := len(tapOK(out)); n != 11 {
		t.Errorf("%d tests passed, want 11\n%s", n, out)
	}
}

// --strategy off runs the [#off] blocks only, without PostgreSQL (the
// template's get_db_utils("postgres") for its off runs writes to the
// embedded store); --strategy postgres the [#postgres] ones; another
// value is refused.
func TestTestStrategyOption(t *testing.T) {
	pluginRepo(t)
	// no PostgreSQL reachable: nothing may try it
	t.Setenv("KONG_PG_HOST", "127.0.0.1")
	t.Setenv("KONG_PG_PORT", "1")
	code, out, errs := runCLI(t, "test", "--strategy", "off", "-o", "TAP", "spec/greeter/10-integration_spec.lua")
	if code != 0 || strings.Count(out, "ok ") != 3 || strings.Contains(out, "#postgres") || !strings.Contains(out, "[#off]") {
		t.Fatalf("--strategy off: exit %d\n%s%s", code, out, errs)
	}
	usePostgresEnv(t)
	code, out, errs = runCLI(t, "test", "--strategy=postgres", "-o", "TAP", "spec/greeter/10-integration_spec.lua")
	if code != 0 || strings.Count(out, "ok ") != 3 || strings.Contains(out, "#off") || !strings.Contains(out, "[#postgres]") {
		t.Fatalf("--strategy postgres: exit %d\n%s%s", code, out, errs)
	}
	// KONG_DATABASE does the same (Kong's helpers read it)
	t.Setenv("KONG_DATABASE", "off")
	code, out, _ = runCLI(t, "test", "-o", "TAP", "spec/greeter/10-integration_spec.lua")
	if code != 0 || strings.Contains(out, "#postgres") {
		t.Fatalf("KONG_DATABASE=off: exit %d\n%s", code, out)
	}
	if code, _, errs := runCLI(t, "test", "--strategy", "cassandra"); code != 1 || !strings.Contains(errs, `--strategy "cassandra": postgres or off`) {
		t.Errorf("--strategy cassandra: exit %d %q", code, errs)
	}
}

// KONG_LUA_PATH_OVERRIDE comes first on the Lua path, and lua_package_path
// is honoured: a spec requires a module from each.
func TestTestLuaPathOverride(t *testing.T) {
	dir := pluginRepo(t)
	for _, d := range []string{"over", "pkg"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "over", "greet_words.lua"), []byte(`return { word = "from override" }`), 0o644)
	os.WriteFile(filepath.Join(dir, "pkg", "greet_words.lua"), []byte(`return { word = "from package path" }`), 0o644)
	os.WriteFile(filepath.Join(dir, "pkg", "greet_more.lua"), []byte(`return { more = true }`), 0o644)
	os.WriteFile(filepath.Join(dir, "spec", "path_spec.lua"), []byte(`describe("path", function()
  it("finds modules", function()
    assert.equal("`+"from override"+`", require("greet_words").word)
    assert.is_true(require("greet_more").more)
  end)
end)`), 0o644)
	t.Setenv("KONG_LUA_PATH_OVERRIDE", "./over/?.lua;")
	t.Setenv("KONG_LUA_PACKAGE_PATH", "./pkg/?.lua;./?.lua")
	code, out, errs := runCLI(t, "test", "--strategy", "off", "spec/path_spec.lua")
	if code != 0 || !strings.Contains(out, "1 success / 0 failures") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	// without the override, lua_package_path's module is found
	t.Setenv("KONG_LUA_PATH_OVERRIDE", "")
	code, out, _ = runCLI(t, "test", "--strategy", "off", "spec/path_spec.lua")
	if code != 1 || !strings.Contains(out, `Expected objects to be equal.`) || !strings.Contains(out, "from package path") {
		t.Fatalf("without the override: exit %d\n%s", code, out)
	}
}

// --coverage writes LuaCov's luacov.stats.out for the plugin's files (not
// the specs) and prints a per-file summary; the lines run only through the
// proxy, in the workers of the node start_kong started, are counted.
func TestTestCoverage(t *testing.T) {
	pluginRepo(t)
	code, out, errs := runCLI(t, "test", "-c", "--strategy", "off", "-o", "plainTerminal", "spec/greeter/10-integration_spec.lua")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if !regexp.MustCompile(`kong/plugins/greeter/handler\.lua +\d+ +0 +100\.00%`).MatchString(out) ||
		!strings.Contains(out, "Coverage (luacov.stats.out)") || !regexp.MustCompile(`\nTotal +\d+ +0 +100\.00%`).MatchString(out) {
		t.Errorf("summary:\n%s", out)
	}
	b, err := os.ReadFile("luacov.stats.out")
	if err != nil {
		t.Fatal(err)
	}
	stats := parseStats(t, string(b))
	h := stats["kong/plugins/greeter/handler.lua"]
	if len(h) != 23 {
		t.Fatalf("handler.lua: %d lines in the stats, want 23\n%s", len(h), b)
	}
	// line 10: text = text:upper() .. "!" — only the "shouts" request
	// reaches it; line 16: access, once per request (3)
	if h[10-1] != 1 || h[16-1] != 3 || h[20-1] != 3 || h[23-1] < 1 || h[3-1] != 0 {
		t.Errorf("handler.lua hits: %v", h)
	}
	for name := range stats {
		if strings.HasPrefix(name, "spec/") {
			t.Errorf("spec file covered: %s", name)
		}
	}
	if _, ok := stats["kong/plugins/greeter/schema.lua"]; !ok {
		t.Errorf("schema.lua not covered: %v", stats)
	}
	// a unit spec calls the handler in the spec's own state: counted too
	code, out, errs = runCLI(t, "test", "--coverage", "--strategy", "off", "spec/greeter/02-unit_spec.lua")
	if code != 0 {
		t.Fatalf("unit spec: exit %d\n%s%s", code, out, errs)
	}
	b, err = os.ReadFile("luacov.stats.out")
	if err != nil {
		t.Fatal(err)
	}
	h = parseStats(t, string(b))["kong/plugins/greeter/handler.lua"]
	if len(h) != 23 || h[16-1] != 1 || h[20-1] != 1 || h[10-1] != 0 {
		t.Errorf("unit spec: handler.lua hits %v", h)
	}
}

// parseStats reads LuaCov's stats format as LuaCov's loader does: a
// "<n>:<name>" line, then n numbers.
func parseStats(t *testing.T, s string) map[string][]uint64 {
	t.Helper()
	out := map[string][]uint64{}
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(lines)%2 != 0 {
		t.Fatalf("odd line count in stats:\n%s", s)
	}
	for i := 0; i < len(lines); i += 2 {
		n, name, ok := strings.Cut(lines[i], ":")
		max, err := strconv.Atoi(n)
		if !ok || err != nil {
			t.Fatalf("bad header %q", lines[i])
		}
		var hits []uint64
		for _, f := range strings.Fields(lines[i+1]) {
			v, err := strconv.ParseUint(f, 10, 64)
			if err != nil {
				t.Fatalf("bad count %q", f)
			}
			hits = append(hits, v)
		}
		if len(hits) != max {
			t.Fatalf("%s: %d counts for max %d", name, len(hits), max)
		}
		out[name] = hits
	}
	return out
}

// --watch: an edit of a spec file runs that file again; an edit of a
// plugin file runs the spec files that loaded it (the unit spec required
// the handler, the schema spec a module of the plugin, the integration
// spec started nodes with it), not util_spec.lua, which loaded nothing of
// it; an edit nothing loaded runs nothing. The polling is driven by the
// test's own ticks.
func TestTestWatch(t *testing.T) {
	dir := pluginRepo(t)
	c, _, err := parseConf("test", nil, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	o, _, err := parseTestArgs([]string{"--strategy", "off", "-o", "TAP"})
	if err != nil {
		t.Fatal(err)
	}
	var out, errs lockedBuffer
	paths := []string{"spec"}
	files, err := findSpecFiles(paths, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	testRepoDefaults(c)
	tr := &testRun{c: c, o: o, timeout: host.DefaultSpecTimeout, stdout: &out, stderr: &errs, deps: map[string]map[string]bool{}}
	tr.nodes = newSpecNodes(c)
	tr.nodes.forced = "off"
	defer tr.nodes.Close()
	if code := tr.round(files); code != 0 {
		t.Fatalf("first round: %d\n%s%s", code, out.String(), errs.String())
	}
	tick := make(chan time.Time)
	stop := make(chan struct{})
	ran := make(chan []string)
	done := make(chan int)
	go func() { done <- tr.watch(paths, tick, stop, func(specs []string) { ran <- specs }) }()
	// each tick is answered; a missing answer fails the test instead of
	// hanging it
	next := func() []string {
		t.Helper()
		select {
		case got := <-ran:
			return got
		case <-time.After(2 * time.Minute):
			t.Fatal("no answer from the watcher")
			return nil
		}
	}
	edit := func(rel, text string, n int) {
		t.Helper()
		p := filepath.Join(dir, rel)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, append(b, text...), 0o644); err != nil {
			t.Fatal(err)
		}
		// a distinct modification time, whatever the file system's clock
		mt := time.Now().Add(time.Duration(n) * time.Second)
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	step := func(rel string, n int, want ...string) {
		t.Helper()
		edit(rel, "\n-- edited\n", n)
		tick <- time.Now()
		got := next()
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("after editing %s: ran %q, want %q", rel, got, want)
		}
	}
	// a first tick, answered with nothing run: the watcher has taken its
	// first look at the files before anything is edited
	tick <- time.Now()
	if got := next(); len(got) != 0 {
		t.Fatalf("nothing edited: ran %q", got)
	}
	step("spec/greeter/02-unit_spec.lua", 1, "spec/greeter/02-unit_spec.lua")
	step("kong/plugins/greeter/handler.lua", 2, "spec/greeter/01-schema_spec.lua", "spec/greeter/02-unit_spec.lua",
		"spec/greeter/10-integration_spec.lua")
	step("spec/util_spec.lua", 3, "spec/util_spec.lua")
	// a new spec file runs
	os.WriteFile(filepath.Join(dir, "spec", "new_spec.lua"), []byte(`it("is new", function() end)`), 0o644)
	tick <- time.Now()
	if got := next(); len(got) != 1 || got[0] != "spec/new_spec.lua" {
		t.Errorf("new spec file: ran %q", got)
	}
	// a file no spec loaded: nothing runs
	os.WriteFile(filepath.Join(dir, "spec", "notes.lua"), []byte(`return 1`), 0o644)
	tick <- time.Now()
	if got := next(); len(got) != 0 {
		t.Errorf("unrelated file: ran %q", got)
	}
	close(stop)
	if code := <-done; code != 0 {
		t.Errorf("watch: exit %d\n%s%s", code, out.String(), errs.String())
	}
	if n := strings.Count(out.String(), "not ok"); n != 0 {
		t.Errorf("%d failures\n%s", n, out.String())
	}
}

// A repository whose plugin files are not under kong/plugins/: the
// rockspec's build.modules say where kong.plugins.greeter.* live, as
// `luarocks make` would install them; luahost test in its root finds them.
func TestTestRockspecLayout(t *testing.T) {
	dir := pluginRepo(t)
	if err := os.MkdirAll(filepath.Join(dir, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"handler.lua", "schema.lua"} {
		if err := os.Rename(filepath.Join(dir, "kong", "plugins", "greeter", f), filepath.Join(dir, "src", f)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.RemoveAll(filepath.Join(dir, "kong")); err != nil {
		t.Fatal(err)
	}
	rock := `package = "kong-plugin-greeter"
version = "1.0.0-1"
source = { url = "git+https://example.invalid/greeter.git" }
dependencies = {}
build = {
  type = "builtin",
  modules = {
    ["kong.plugins.greeter.handler"] = "src/handler.lua",
    ["kong.plugins.greeter.schema"] = "src/schema.lua",
  },
}
`
	if err := os.WriteFile(filepath.Join(dir, "greeter-1.0.0-1.rockspec"), []byte(rock), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "test", "--strategy", "off", "-o", "TAP")
	if code != 0 || len(tapOK(out)) != 8 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
}

// luahost test in Kong's own source tree (kong/meta.lua and
// kong/runloop/handler.lua): the tree is on the Lua path, as Kong's
// .busted puts it, so its kong/plugins/* are the bundled plugins found
// there and one needing a module luahost lacks (LuaJIT's ffi) is skipped
// with a warning, instead of failing the run as a plugin repository's own
// plugin would; and spec/kong_tests.conf is the nodes' configuration
// (its fixture plugins, on its lua_package_path; not its listeners).
func TestTestKongSourceTree(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"kong/meta.lua":                 `return { _VERSION = "3.9.0" }`,
		"kong/runloop/handler.lua":      `return { tree = "kong" }`,
		"kong/plugins/jwt/handler.lua":  `local ffi = require "ffi" return { PRIORITY = 1450, VERSION = "3.9.0" }`,
		"kong/plugins/jwt/schema.lua":   `return { name = "jwt", fields = { { config = { type = "record", fields = {} } } } }`,
		"kong/plugins/cors/handler.lua": `return { PRIORITY = 2000, VERSION = "3.9.0" }`,
		"kong/plugins/cors/schema.lua":  `return { name = "cors", fields = { { config = { type = "record", fields = {} } } } }`,
		"spec/kong_tests.conf":          "plugins = bundled,fixture-one\nlua_package_path = ./spec/fixtures/custom_plugins/?.lua\nproxy_listen = 0.0.0.0:1\n",
		"spec/fixtures/custom_plugins/kong/plugins/fixture-one/handler.lua": `return { PRIORITY = 1, VERSION = "1.0.0" }`,
		"spec/fixtures/custom_plugins/kong/plugins/fixture-one/schema.lua":  `return { name = "fixture-one", fields = { { config = { type = "record", fields = {} } } } }`,
		"spec/03-plugins/13-cors/tree_spec.lua": `local helpers = require "spec.helpers"
describe("the tree", function()
  it("is on the Lua path", function()
    assert.equal("kong", require("kong.runloop.handler").tree)
  end)
  it("runs with spec/kong_tests.conf: its fixture plugins enabled", function()
    local bp = helpers.get_db_utils("off", { "plugins" })
    local p = bp.plugins:insert { name = "fixture-one" }
    assert.equal("fixture-one", p.name)
    assert(helpers.start_kong({ database = "off" }))
    helpers.stop_kong()
  end)
end)`,
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	code, out, errs := runCLI(t, "test", "--strategy", "off", "spec/03-plugins/13-cors/")
	if code != 0 || !strings.Contains(out, "2 successes / 0 failures") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
}
