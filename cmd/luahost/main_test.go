package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/luahost/luahost/kongdb/postgres/pgtest"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(out, "luahost "+Version) {
		t.Fatalf("version: %d %q", code, out)
	}
}

func TestPluginsDescribesExamplePlugins(t *testing.T) {
	code, out, errs := runCLI(t, "plugins", "--plugins-dir", "../../plugins")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		"token-auth 1.1.0", "priority:   1250", "phases:     access", "entities:   token_credentials",
		"migrations: 000_base_token_auth, 001_100_to_110",
		"response-stamp 1.0.0", "phases:     access, header_filter", "entities:   none",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// token-auth (1250) is listed before response-stamp (800): priority order.
	if strings.Index(out, "token-auth") > strings.Index(out, "response-stamp") {
		t.Errorf("not in priority order:\n%s", out)
	}
}

func TestPluginsReportsEveryBrokenPlugin(t *testing.T) {
	code, _, errs := runCLI(t, "plugins", "--plugins-dir", "../../host/testdata/broken")
	if code == 0 {
		t.Fatal("broken plugins must exit non-zero")
	}
	// missing-migration loads: its migrations are read only when needed
	for _, want := range []string{"3 plugin error(s)", "kong/plugins/bad-daos/daos.lua:7", "kong/plugins/bad-schema/schema.lua:7",
		"kong/plugins/no-priority/handler.lua:8", " >    7 |"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}

func TestTestCommand(t *testing.T) {
	code, out, errs := runCLI(t, "test", "--plugins-dir", "../../plugins", "../../plugins/token-auth/spec")
	if code != 0 || !strings.Contains(out, " successes / 0 failures / 0 errors / 0 pending") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = runCLI(t, "test", "--plugins", "off", "../../host/testdata/specs/failing_spec.lua")
	if code != 1 || !strings.Contains(out, "1 success / 1 failure / 1 error / 1 pending") ||
		!strings.Contains(out, "Failure → ../../host/testdata/specs/failing_spec.lua @ 6") {
		t.Fatalf("failing spec: exit %d\n%s", code, out)
	}
}

func TestConfigSources(t *testing.T) {
	t.Setenv("KONG_PG_HOST", "db.example")
	code, out, _ := runCLI(t, "config", "--log-level", "debug", "--set", "mem_cache_size=64m")
	if code != 0 {
		t.Fatal(code)
	}
	for _, want := range []string{"pg_host = db.example  # env KONG_PG_HOST", "log_level = debug  # --log-level",
		"mem_cache_size = 64m  # --set", "database = off  # default"} {
		if !strings.Contains(out, want) {
			t.Errorf("config lacks %q", want)
		}
	}
}

// `luahost migrations` on a real database, with Kong's output and exit
// codes: list before bootstrap (3), bootstrap, list (0), status JSON.
func TestMigrationsCommands(t *testing.T) {
	cfg := pgtest.NewDatabase(t)
	base := []string{"--plugins-dir", "../../plugins", "--set", "database=postgres",
		"--set", "pg_host=" + cfg.Host, "--set", fmt.Sprintf("pg_port=%d", cfg.Port),
		"--set", "pg_user=" + cfg.User, "--set", "pg_database=" + cfg.Database}
	mig := func(args ...string) (int, string, string) {
		return runCLI(t, append(append([]string{"migrations"}, args...), base...)...)
	}
	code, out, errs := mig("list")
	if code != 3 || !strings.Contains(out, "Database needs bootstrapping") {
		t.Fatalf("list before bootstrap: %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = mig("bootstrap")
	if code != 0 || !strings.Contains(out, "core migrated up to: 000_base (executed)") ||
		!strings.Contains(out, "token-auth migrated up to: 001_100_to_110 (executed)") ||
		!strings.Contains(out, "Database is up-to-date") {
		t.Fatalf("bootstrap: %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = mig("list")
	if code != 0 || !strings.Contains(out, "Executed migrations:") ||
		!strings.Contains(out, "token-auth: 000_base_token_auth, 001_100_to_110") {
		t.Fatalf("list: %d\n%s", code, out)
	}
	code, out, _ = mig("status")
	if code != 0 || !strings.Contains(out, `"executed_migrations"`) {
		t.Fatalf("status: %d\n%s", code, out)
	}
	code, out, _ = mig("bootstrap")
	if code != 0 || !strings.Contains(out, "Database already bootstrapped") {
		t.Fatalf("second bootstrap: %d\n%s", code, out)
	}
	code, out, errs = mig("reset", "-y")
	if code != 0 {
		t.Fatalf("reset: %d\n%s\n%s", code, out, errs)
	}
	code, _, _ = mig("list")
	if code != 3 {
		t.Fatalf("list after reset: %d", code)
	}
}
