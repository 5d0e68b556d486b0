package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/kongdb/postgres/pgtest"
)

// `luahost check` exits 0 clean, 1 with warnings only, 2 with errors, and
// prints one line per finding with plugin, file:line, severity, Kong's
// issue and the fix.
func TestCheckExitCodes(t *testing.T) {
	lint := "../../check/testdata/lint"
	for _, c := range []struct {
		args []string
		code int
		line string
	}{
		{[]string{"--plugins-dir", "../../check/testdata/clean"}, 0, "1 plugin(s), 1 entities checked: 0 error(s), 0 warning(s)"},
		{[]string{"--plugins-dir", lint, "mapform"}, 1, "mapform daos.lua:3: warning [daos-map-form]"},
		{[]string{"--plugins-dir", lint, "maporder"}, 2, "maporder daos.lua:8: error [fk-order] daos.lua returns a map"},
		{[]string{"--plugins-dir", lint, "pgkey"}, 2, "(Kong/docs.konghq.com#5584); fix: rename the key to 'postgres'"},
		{[]string{"--plugins-dir", lint, "no-such-plugin"}, 2, ""},
	} {
		code, out, errs := runCLI(t, append([]string{"check", "--no-db"}, c.args...)...)
		if code != c.code || !strings.Contains(out, c.line) {
			t.Errorf("check %v: exit %d (want %d)\n%s%s", c.args, code, c.code, out, errs)
		}
	}
}

func TestCheckJSON(t *testing.T) {
	code, out, errs := runCLI(t, "check", "--no-db", "--json", "--plugins-dir", "../../check/testdata/lint", "apiargs", "cors")
	if code != 2 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep struct {
		Plugins  []string `json:"plugins"`
		Findings []struct {
			Plugin, File, Severity, Code, Kong, Fix, Message string
			Line                                             int
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(rep.Findings) != 2 || rep.Findings[0].Plugin != "apiargs" || rep.Findings[0].File != "api.lua" ||
		rep.Findings[0].Line != 6 || rep.Findings[0].Severity != "error" || rep.Findings[0].Kong != "Kong/kong#9493" ||
		rep.Findings[1].Plugin != "cors" || rep.Findings[1].Severity != "warning" || rep.Findings[1].Fix == "" {
		t.Fatalf("findings: %+v", rep.Findings)
	}
}

// With --pg-* options the migrations run on a scratch schema of that
// server; an unreachable server is an error (exit 2), not a silent skip.
func TestCheckDatabaseOptions(t *testing.T) {
	cfg := pgtest.NewDatabase(t)
	code, out, errs := runCLI(t, "check", "--plugins-dir", "../../check/testdata/db", "--pg-host", cfg.Host,
		fmt.Sprintf("--pg-port=%d", cfg.Port), "--pg-user", cfg.User, "--pg-database", cfg.Database, "nocolumn")
	if code != 2 || !strings.Contains(out, "nocolumn daos.lua:15: error [column-missing]") {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	code, _, errs = runCLI(t, "check", "--plugins-dir", "../../check/testdata/clean", "--pg-host", "127.0.0.1", "--pg-port", "1")
	if code != 2 || !strings.Contains(errs, "--no-db") {
		t.Fatalf("unreachable server: exit %d: %s", code, errs)
	}
}

// `migrations plan` prints what bootstrap would run, then, once up ran,
// what finish would; --check-reentrant runs everything twice on a
// scratch schema and exits 1 on a migration that fails the second time.
func TestMigrationsPlan(t *testing.T) {
	cfg := pgtest.NewDatabase(t)
	pg := []string{"--set", "database=postgres", "--set", "pg_host=" + cfg.Host, "--set", fmt.Sprintf("pg_port=%d", cfg.Port),
		"--set", "pg_user=" + cfg.User, "--set", "pg_database=" + cfg.Database}
	mig := func(dir string, args ...string) (int, string, string) {
		return runCLI(t, append(append([]string{"migrations"}, args...), append([]string{"--plugins-dir", dir}, pg...)...)...)
	}
	code, out, errs := mig("../../plugins", "plan")
	if code != 0 || !strings.Contains(out, "Database needs bootstrapping; 'migrations bootstrap' would run") ||
		!strings.Contains(out, `CREATE TABLE IF NOT EXISTS "token_credentials" (`) ||
		!strings.Contains(out, "teardown: Lua function at kong/plugins/token-auth/migrations/001_100_to_110.lua:14") {
		t.Fatalf("plan: %d\n%s%s", code, out, errs)
	}
	code, out, errs = mig("../../plugins", "plan", "--json")
	var plan struct {
		NeedsBootstrap bool `json:"needs_bootstrap"`
		Steps          []struct{ Command, Subsystem, Migration, Step, SQL, Func string }
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil || code != 0 || !plan.NeedsBootstrap {
		t.Fatalf("plan --json: %d %v\n%s%s", code, err, out, errs)
	}
	last := plan.Steps[len(plan.Steps)-1]
	if plan.Steps[0].Subsystem != "core" || plan.Steps[0].Migration != "000_base" || plan.Steps[0].Step != "up" ||
		!strings.Contains(plan.Steps[0].SQL, `CREATE TABLE IF NOT EXISTS "workspaces"`) ||
		last.Subsystem != "token-auth" || last.Step != "teardown" || !strings.HasSuffix(last.Func, "001_100_to_110.lua:14") {
		t.Fatalf("plan --json steps: first %+v last %+v", plan.Steps[0], last)
	}
	if code, _, errs = mig("../../plugins", "bootstrap"); code != 0 {
		t.Fatalf("bootstrap: %s", errs)
	}
	code, out, _ = mig("../../plugins", "plan")
	if code != 0 || !strings.Contains(out, "Database is up to date") {
		t.Fatalf("plan after bootstrap: %d\n%s", code, out)
	}
	code, out, _ = mig("../../check/testdata/db/reentry", "plan", "--check-reentrant")
	if code != 1 || !strings.Contains(out, "reentry: 000_base up (second run): [PostgreSQL error] failed to run migration '000_base' up: ERROR: relation \"reentry_items\" already exists") {
		t.Fatalf("plan --check-reentrant: %d\n%s", code, out)
	}
}

// --audit-cache turns the audit on for `luahost run` (the audit itself:
// check.TestCacheAuditAtRunTime).
func TestAuditCacheFlag(t *testing.T) {
	code, out, errs := runCLI(t, "config", "--audit-cache")
	if code != 0 || !strings.Contains(out, "audit_cache = on  # --audit-cache") {
		t.Fatalf("config --audit-cache: %d\n%s%s", code, out, errs)
	}
}

// `luahost run --audit-cache` prints, when it stops, the keys cached in
// kong.cache that no invalidation matched.
func TestRunAuditCache(t *testing.T) {
	c := conf.New()
	c.Append("plugins_dir", "../../plugins", "test")
	c.Set("lua_package_path", "", "test")
	c.Set("mem_cache_size", "4m", "test")
	c.Set("log_level", "error", "test")
	c.Set("proxy_listen", "127.0.0.1:0", "test")
	c.Set("audit_cache", "on", "--audit-cache")
	sigs := make(chan os.Signal, 1)
	started := startNode(t, c, runOpts{signals: sigs})
	l2 := started.node.Host.Root.Cache
	if err := l2.SetValue("token_credentials:handmade", "v", nil); err != nil {
		t.Fatal(err)
	}
	if err := l2.SetValue("token_credentials:evicted", "v", nil); err != nil {
		t.Fatal(err)
	}
	l2.Delete("token_credentials:evicted")
	sigs <- syscall.SIGTERM
	if code := <-started.code; code != 0 {
		t.Fatalf("exit %d: %s", code, started.stderr.String())
	}
	out := started.stderr.String()
	if !strings.Contains(out, "cache audit: 2 key(s) cached, 1 key(s) invalidated, 1 cached key(s) never matched by an invalidation") ||
		!strings.Contains(out, "never invalidated although 'token_credentials' was written 1 time(s): token_credentials:handmade") {
		t.Fatalf("stderr:\n%s", out)
	}
}
