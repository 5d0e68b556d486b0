package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/host/hosttest"
	"github.com/luahost/luahost/kongdb/schema"
)

// demoYML has what the acceptance asks for: services, routes (nested and
// top level, referencing the service by name), consumers, plugins (nested
// and top level) and a plugin's own entity (token-auth's
// token_credentials, nested under a consumer and at the top level).
func demoYML(upstreamPort int) string {
	return fmt.Sprintf(`_format_version: "3.0"
services:
- name: echo
  url: http://127.0.0.1:%d/up
  routes:
  - name: open
    paths: [/open]
  plugins: []
- name: locked
  url: http://127.0.0.1:%d/locked
  plugins:
  - name: token-auth
    config:
      header_name: x-token
routes:
- name: locked-route
  service: locked
  paths: [/locked]
consumers:
- username: alice
  token_credentials:
  - key: alice-key
    label: laptop
- username: bob
token_credentials:
- key: bob-key
  consumer: bob
`, upstreamPort, upstreamPort)
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// `luahost run` with declarative_config on the embedded store: the file's
// rows are there (the plugin's entity too) and the proxy routes to its
// services.
func TestRunLoadsDeclarativeConfig(t *testing.T) {
	up := echoUpstream(t)
	c := conf.New()
	c.Append("plugins_dir", "../../plugins", "test")
	c.Set("lua_package_path", "", "test")
	c.Set("log_level", "error", "test")
	c.Set("proxy_listen", "127.0.0.1:0", "test")
	c.Set("admin_listen", "127.0.0.1:0", "test")
	c.Set("declarative_config", writeFile(t, "kong.yml", demoYML(up)), "test")
	sigs := make(chan os.Signal, 1)
	started := startNode(t, c, runOpts{signals: sigs})
	defer func() { sigs <- os.Interrupt; <-started.code }()
	db := started.node.Host.Root.DB
	ctx := context.Background()
	cred, err := db.DAO("token_credentials").SelectBy(ctx, "key", "bob-key", nil)
	if err != nil || cred == nil {
		t.Fatalf("credential: %v %v", cred, err)
	}
	bob, _ := db.DAO("consumers").SelectBy(ctx, "username", "bob", nil)
	if cred["consumer"].(map[string]any)["id"] != bob["id"] {
		t.Errorf("credential's consumer: %v, bob %v", cred, bob)
	}
	plugins, _, _ := db.DAO("plugins").Page(ctx, 100, nil, map[string]any{"workspace": schema.Null})
	if len(plugins) != 1 || plugins[0]["name"] != "token-auth" {
		t.Errorf("plugins: %v", plugins)
	}
	base := "http://" + started.node.Server.Addrs[0].String()
	if body := waitFor(t, base+"/open/x", 200); !strings.HasPrefix(body, "upstream /up/x") {
		t.Errorf("proxied: %q", body)
	}
	// POST /config (through the handler the Admin API mounts) replaces
	// the configuration and purges kong.cache, as Kong DB-less does
	if err := started.node.Host.Root.Cache.SetValue("plugin-own-key", "v", nil); err != nil {
		t.Fatal(err)
	}
	if started.node.Admin == nil || len(started.node.Admin.Addrs) == 0 {
		t.Fatal("no Admin API")
	}
	res, err := http.Post("http://"+started.node.Admin.Addrs[0].String()+"/config", "text/yaml", strings.NewReader("_format_version: \"3.0\"\nconsumers:\n- username: carol\n"))
	if err != nil || res.StatusCode != 201 {
		t.Fatalf("POST /config: %v %v", res, err)
	}
	res.Body.Close()
	if _, found, _ := started.node.Host.Root.Cache.GetValue("plugin-own-key"); found {
		t.Error("kong.cache not purged after POST /config")
	}
	if n, _, _ := db.DAO("services").Page(ctx, 10, nil, nil); len(n) != 0 {
		t.Errorf("services after replace: %v", n)
	}
	waitFor(t, base+"/open/x", 404)
}

// A bad declarative_config stops `luahost run` with every error listed.
func TestRunRefusesBadDeclarativeConfig(t *testing.T) {
	bad := writeFile(t, "kong.yml", `_format_version: "3.0"
services:
- name: s
  port: 99999
routes:
- paths: [/x]
  service: nowhere
`)
	code, _, errs := runCLI(t, "run", "--plugins-dir", "../../plugins", "--set", "proxy_listen=127.0.0.1:0",
		"--set", "admin_listen=off", "--set", "declarative_config="+bad)
	if code != 1 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"Failed parsing " + bad + ": 3 error(s):",
		"services[1] (line 3): host: required field missing",
		"services[1] (line 3): port: value should be between 0 and 65535",
		"routes[1] (line 6): invalid reference 'service: nowhere' (no such entry in 'services')",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}

// `luahost config parse` checks a file (options may follow it).
func TestConfigParse(t *testing.T) {
	good := writeFile(t, "kong.yml", demoYML(9))
	code, out, errs := runCLI(t, "config", "parse", good, "--plugins-dir", "../../plugins")
	if code != 0 || !strings.Contains(out, "parse successful") {
		t.Fatalf("%d %s %s", code, out, errs)
	}
	if code, out, errs := runCLI(t, "config", "--plugins-dir", "../../plugins", "parse", good); code != 0 || !strings.Contains(out, "parse successful") {
		t.Fatalf("options first: %d %s %s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "config", "pasre", good); code != 1 || !strings.Contains(errs, `unknown config command "pasre"`) {
		t.Fatalf("unknown subcommand: %d %s", code, errs)
	}
	bad := writeFile(t, "kong.json", `{"_format_version": "3.0", "consumers": [{"username": 5}]}`)
	code, _, errs = runCLI(t, "config", "parse", bad, "--plugins-dir", "../../plugins")
	if code != 1 || !strings.Contains(errs, "consumers[1] (line 1): username: expected a string") {
		t.Fatalf("%d %s", code, errs)
	}
	if code, _, errs := runCLI(t, "config", "db_import", good, "--plugins-dir", "../../plugins"); code != 1 ||
		!strings.Contains(errs, "only works with a database") {
		t.Fatalf("db_import on database=off: %d %s", code, errs)
	}
	// no subcommand: the resolved configuration, as before
	if code, out, _ := runCLI(t, "config"); code != 0 || !strings.Contains(out, "database = off") {
		t.Fatalf("config: %d %s", code, out)
	}
}

// db_export → db_import → db_export round-trips unchanged, on the
// embedded store (db_export of what declarative_config loaded) and on
// PostgreSQL (db_import into a database, export, import the export into a
// second one, export again).
func TestConfigExportImportRoundTrip(t *testing.T) {
	dir := t.TempDir()
	src := writeFile(t, "kong.yml", demoYML(9))
	export := func(t *testing.T, name string, args ...string) string {
		t.Helper()
		out := filepath.Join(dir, name)
		code, _, errs := runCLI(t, append([]string{"config", "db_export", out, "--plugins-dir", "../../plugins"}, args...)...)
		if code != 0 {
			t.Fatalf("db_export: %d %s", code, errs)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	t.Run("off", func(t *testing.T) {
		first := export(t, "off1.yml", "--set", "declarative_config="+src)
		for _, want := range []string{"key: alice-key", "token_credentials:", "name: locked-route", "username: bob"} {
			if !strings.Contains(first, want) {
				t.Errorf("export lacks %q:\n%s", want, first)
			}
		}
		second := export(t, "off2.yml", "--set", "declarative_config="+filepath.Join(dir, "off1.yml"))
		if first != second {
			t.Errorf("round trip changed the file:\n%s\n---\n%s", first, second)
		}
		if code, _, errs := runCLI(t, "config", "db_export", filepath.Join(dir, "off1.yml"), "--plugins-dir", "../../plugins"); code != 1 ||
			!strings.Contains(errs, "already exists. Will not overwrite it.") {
			t.Errorf("overwrite: %d %s", code, errs)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		pgArgs := func() []string {
			c := conf.New()
			c.Append("plugins_dir", "../../plugins", "test")
			hosttest.UsePostgres(t, c)
			var args []string
			for _, k := range []string{"database", "pg_host", "pg_port", "pg_user", "pg_password", "pg_database"} {
				args = append(args, "--set", k+"="+c.Get(k))
			}
			return args
		}
		db1, db2 := pgArgs(), pgArgs()
		imp := func(file string, args []string) {
			t.Helper()
			code, out, errs := runCLI(t, append([]string{"config", "db_import", file, "--plugins-dir", "../../plugins"}, args...)...)
			if code != 0 || !strings.Contains(out, "import successful") {
				t.Fatalf("db_import: %d %s %s", code, out, errs)
			}
		}
		imp(src, db1)
		first := export(t, "pg1.yml", db1...)
		imp(filepath.Join(dir, "pg1.yml"), db2)
		second := export(t, "pg2.yml", db2...)
		if first != second {
			t.Errorf("round trip changed the file:\n%s\n---\n%s", first, second)
		}
		if !strings.Contains(first, "key: bob-key") {
			t.Errorf("export:\n%s", first)
		}
		// importing the same file again changes nothing
		imp(filepath.Join(dir, "pg1.yml"), db1)
		if third := export(t, "pg3.yml", db1...); third != first {
			t.Errorf("re-import changed the database:\n%s\n---\n%s", first, third)
		}
	})
}

// KONG_DECLARATIVE_CONFIG names the file, as in Kong; db_export - writes
// to stdout.
func TestDeclarativeConfigFromEnvironment(t *testing.T) {
	t.Setenv("KONG_DECLARATIVE_CONFIG", writeFile(t, "kong.yml", demoYML(9)))
	code, out, errs := runCLI(t, "config", "db_export", "-", "--plugins-dir", "../../plugins")
	if code != 0 || !strings.Contains(out, "name: locked-route") || !strings.HasPrefix(out, "_format_version: \"3.0\"\n_transform: false\n") {
		t.Fatalf("%d %s %s", code, out, errs)
	}
}
