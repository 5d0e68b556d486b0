package check

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/kongdb/postgres"
	"github.com/luahost/luahost/kongdb/postgres/pgtest"
)

// key is what a test asserts of a finding: where, how bad, what kind.
type key struct {
	plugin, file string
	line         int
	sev          Severity
	code         string
}

func (k key) String() string {
	return fmt.Sprintf("%s %s:%d %s [%s]", k.plugin, k.file, k.line, k.sev, k.code)
}

func confFor(dirs ...string) *conf.Config {
	c := conf.New()
	for _, d := range dirs {
		c.Append("plugins_dir", d, "test")
	}
	return c
}

func runCheck(t testing.TB, o Options) *Report {
	t.Helper()
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	return rep
}

// assertFindings wants exactly the findings of want, each with its line.
func assertFindings(t *testing.T, rep *Report, want []key) {
	t.Helper()
	var got []string
	for _, f := range rep.Findings {
		got = append(got, key{f.Plugin, f.File, f.Line, f.Severity, f.Code}.String())
	}
	var exp []string
	for _, k := range want {
		exp = append(exp, k.String())
	}
	sort.Strings(got)
	sort.Strings(exp)
	if strings.Join(got, "\n") != strings.Join(exp, "\n") {
		var b strings.Builder
		for _, f := range rep.Findings {
			b.WriteString("  " + f.String() + "\n")
		}
		t.Errorf("findings:\n got  %s\n want %s\nfull report:\n%s", strings.Join(got, "\n      "), strings.Join(exp, "\n      "), b.String())
	}
}

// Each fixture under testdata/lint is broken in one way; checked without
// a database, each gives exactly its finding, at its line. The clean
// fixture gives none.
func TestLintFixtures(t *testing.T) {
	rep := runCheck(t, Options{Conf: confFor("testdata/lint", "testdata/clean")})
	assertFindings(t, rep, []key{
		{"apiargs", "api.lua", 6, Error, "api-nil-args"},
		{"arrayorder", "daos.lua", 9, Error, "fk-order"},
		{"badsyntax", "daos.lua", 7, Error, "load-error"},
		{"bundledclash", "daos.lua", 5, Error, "name-clash"},
		{"coreclash", "daos.lua", 5, Error, "name-clash"},
		{"cors", "handler.lua", 1, Warning, "name-clash"},
		{"daoskey", "daos.lua", 14, Error, "unknown-key"},
		{"envhandler", "handler.lua", 1, Warning, "env-missing"},
		{"envschema", "schema.lua", 1, Warning, "env-missing"},
		{"fieldclash", "daos.lua", 10, Error, "name-clash"},
		{"handkey", "handler.lua", 12, Warning, "cache-key-never-invalidated"},
		{"legacymig", "migrations/postgres.lua", 1, Error, "legacy-migrations"},
		{"mapform", "daos.lua", 3, Warning, "daos-map-form"},
		{"maporder", "daos.lua", 8, Error, "fk-order"},
		{"partkey", "handler.lua", 12, Warning, "cache-key-never-invalidated"},
		{"pgkey", "migrations/000_base.lua", 2, Error, "unknown-key"},
		{"singlekey", "daos.lua", 7, Error, "cache-key-not-unique"},
	})
	if rep.Database == "" {
		t.Error("a run without PG must say the database checks were skipped")
	}
}

// Issue numbers are part of what the user reads.
func TestLintFixturesCiteKong(t *testing.T) {
	rep := runCheck(t, Options{Conf: confFor("testdata/lint")})
	want := map[string]string{
		"apiargs": "Kong/kong#9493", "arrayorder": "Kong/kong#7911", "maporder": "Kong/kong#7911",
		"bundledclash": "Kong/kong#14144", "cors": "Kong/kong#14144", "fieldclash": "Kong/kong#7160",
		"handkey": "Kong/kong#8965", "pgkey": "Kong/docs.konghq.com#5584",
	}
	for _, f := range rep.Findings {
		if w, ok := want[f.Plugin]; ok && f.Kong != w {
			t.Errorf("%s: Kong = %q, want %q", f, f.Kong, w)
		}
		if f.Fix == "" {
			t.Errorf("%s: no fix", f)
		}
		if strings.ContainsAny(f.String(), "\n\t") {
			t.Errorf("finding is not one line: %q", f.String())
		}
	}
}

// Without a database, up SQL that cannot run twice is pointed at.
func TestStaticReentrancy(t *testing.T) {
	rep := runCheck(t, Options{Conf: confFor("testdata/db"), Plugins: []string{"reentry"}})
	assertFindings(t, rep, []key{{"reentry", "migrations/000_base.lua", 4, Warning, "not-reentrant"}})
}

// The database fixtures are the clean plugin with one thing wrong in its
// migration: applied to a scratch schema and diffed, each gives exactly
// its finding.
func TestDatabaseFixtures(t *testing.T) {
	cfg := pgtest.NewDatabase(t)
	rep := runCheck(t, Options{Conf: confFor("testdata/db", "testdata/clean"), PG: &cfg})
	assertFindings(t, rep, []key{
		{"badsql", "migrations/000_base.lua", 6, Error, "migration-failed"},
		{"badtype", "daos.lua", 15, Error, "column-type"},
		{"cachekeydup", "daos.lua", 7, Error, "cache-key-not-unique"},
		{"extracol", "migrations/000_base.lua", 14, Warning, "unknown-column"},
		{"extranotnull", "migrations/000_base.lua", 14, Error, "unknown-column"},
		{"globalunique", "daos.lua", 14, Error, "unique-missing"},
		{"nocachekey", "daos.lua", 7, Error, "cache-key-column"},
		{"nocolumn", "daos.lua", 15, Error, "column-missing"},
		{"nofk", "daos.lua", 13, Error, "fk-missing"},
		{"nofkcol", "daos.lua", 13, Error, "column-missing"},
		{"nopk", "daos.lua", 6, Error, "primary-key"},
		{"notable", "daos.lua", 5, Error, "table-missing"},
		{"notrigger", "daos.lua", 16, Warning, "tags-trigger"},
		{"nottl", "daos.lua", 9, Error, "ttl-column"},
		{"nottlindex", "daos.lua", 9, Warning, "ttl-index"},
		{"nowsid", "daos.lua", 8, Error, "ws-id-missing"},
		{"ondelete", "daos.lua", 13, Error, "fk-on-delete"},
		{"reentry", "migrations/000_base.lua", 3, Error, "not-reentrant"},
	})
	if rep.Database != "" {
		t.Errorf("database checks skipped: %s", rep.Database)
	}
	// the message says what goes wrong in Kong
	for plugin, want := range map[string]string{
		"globalunique": "UNIQUE (name) alone makes it unique across workspaces, and upsert_by_name (ON CONFLICT (ws_id, name)) fails",
		"nofkcol":      "foreign field 'consumer' needs column 'consumer_id'",
		"badtype":      "column 'count' is text, incompatible with field 'count' (integer); Kong maps it to BIGINT",
		"ondelete":     "declares on_delete = cascade, but the foreign key 'ondelete_items_consumer_id_ws_id_fkey' is ON DELETE NO ACTION",
		"reentry":      `relation "reentry_items" already exists`,
	} {
		found := false
		for _, f := range rep.Findings {
			if f.Plugin == plugin && strings.Contains(f.Message, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no finding saying %q", plugin, want)
		}
	}
	if rep.ExitCode() != 2 {
		t.Errorf("exit code %d, want 2", rep.ExitCode())
	}
}

// The scratch schema exists for the run, holds Kong's core tables, and
// is gone afterwards, also when the run fails.
func TestScratchSchemaDropped(t *testing.T) {
	cfg := pgtest.NewDatabase(t)
	for _, fail := range []bool{false, true} {
		var name string
		err := Scratch(context.Background(), cfg, func(conn *postgres.Connector) error {
			name = conn.Schema()
			if n := countSchemas(t, cfg, name); n != 1 {
				t.Errorf("schema %s not there during the run", name)
			}
			if found, err := conn.ExistingTables(context.Background(), "consumers", "workspaces"); err != nil || len(found) != 2 {
				t.Errorf("core tables in the scratch schema: %v %v", found, err)
			}
			if fail {
				return fmt.Errorf("boom")
			}
			return nil
		})
		if (err != nil) != fail {
			t.Fatalf("fail=%v: err %v", fail, err)
		}
		if !strings.HasPrefix(name, "luahost_check_") {
			t.Fatalf("scratch schema %q", name)
		}
		if n := countSchemas(t, cfg, name); n != 0 {
			t.Fatalf("schema %s still exists after the run", name)
		}
	}
}

func countSchemas(t *testing.T, cfg postgres.Config, name string) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), cfg.ConnString())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_namespace WHERE nspname = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Lint fixtures checked with the database: a plugin whose migration is
// invalid is not diffed (its tables are not what it means to make), and
// the others' migrations are clean, so each still gives its one finding.
func TestDatabaseLintFixtures(t *testing.T) {
	cfg := pgtest.NewDatabase(t)
	rep := runCheck(t, Options{Conf: confFor("testdata/lint"), PG: &cfg,
		Plugins: []string{"pgkey", "apiargs", "daoskey", "handkey", "partkey", "envhandler", "envschema"}})
	assertFindings(t, rep, []key{
		{"apiargs", "api.lua", 6, Error, "api-nil-args"},
		{"daoskey", "daos.lua", 14, Error, "unknown-key"},
		{"envhandler", "handler.lua", 1, Warning, "env-missing"},
		{"envschema", "schema.lua", 1, Warning, "env-missing"},
		{"handkey", "handler.lua", 12, Warning, "cache-key-never-invalidated"},
		{"partkey", "handler.lua", 12, Warning, "cache-key-never-invalidated"},
		{"pgkey", "migrations/000_base.lua", 2, Error, "unknown-key"},
	})
	// a handler.lua or schema.lua luahost cannot load does not stop the
	// data-layer checks: their tables were compared
	for _, p := range []string{"envhandler", "envschema", "apiargs"} {
		if got := rep.Tables[p]; len(got) != 1 || got[0] != p+"_items" {
			t.Errorf("%s: tables diffed %v", p, got)
		}
	}
	if got := rep.Tables["pgkey"]; len(got) != 0 {
		t.Errorf("pgkey's migration is invalid: no table to diff, got %v", got)
	}
}

// A 0.x migrations file that never returns is stopped and reported: the
// loader evaluates migrations/postgres.lua (luahost runs 0.x migrations),
// so the plugin fails to load, naming the file.
func TestLegacyMigrationsLoop(t *testing.T) {
	saved := legacyTimeout
	legacyTimeout = 200 * time.Millisecond
	defer func() { legacyTimeout = saved }()
	dir := copyPlugin(t, "testdata/lint/legacymig", "legacymig", map[string]string{
		"migrations/postgres.lua": "while true do end\n"})
	cfg := pgtest.NewDatabase(t)
	rep := runCheck(t, Options{Conf: confFor(dir), PG: &cfg})
	var codes []string
	for _, f := range rep.Findings {
		codes = append(codes, f.Code)
	}
	sort.Strings(codes)
	if strings.Join(codes, ",") != "load-error" || rep.Findings[0].File != "migrations/postgres.lua" {
		t.Fatalf("findings: %v", rep.Findings)
	}
}
