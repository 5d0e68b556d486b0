package host

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/luahost/luahost/kongdb/migrations"
	"github.com/luahost/luahost/kongdb/postgres"
	"github.com/luahost/luahost/kongdb/postgres/pgtest"
	"github.com/luahost/luahost/kongdb/schema"
)

// copyDir copies a plugin directory tree.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func migrator(t *testing.T, dir string, conn *postgres.Connector, out *bytes.Buffer) (*Host, *migrations.Migrator) {
	t.Helper()
	c := testConf(t, dir)
	h, err := New(Options{Conf: c, Logger: quietLogger(), NoDB: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	subs, err := h.Subsystems()
	if err != nil {
		t.Fatal(err)
	}
	return h, &migrations.Migrator{Conn: conn, Subsystems: subs, Runner: h, Out: out, Owner: "test"}
}

// The example plugin's migrations through the host: bootstrap with the
// base migration, then `up` after its upgrade migration is added (pending,
// it has a teardown), then `finish` runs the Lua teardown, which uses
// connector:query.
func TestPluginMigrationsUpAndFinish(t *testing.T) {
	ctx := context.Background()
	conn := freshConnector(t)

	dir := pluginCopy(t)
	index := filepath.Join(dir, "token-auth", "migrations", "init.lua")
	if err := os.WriteFile(index, []byte("return {\n  \"000_base_token_auth\",\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_, m := migrator(t, dir, conn, &out)
	if err := m.Bootstrap(ctx, false); err != nil {
		t.Fatalf("bootstrap: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "token-auth migrated up to: 000_base_token_auth (executed)") {
		t.Fatalf("bootstrap output:\n%s", out.String())
	}
	// A credential created before the upgrade.
	_, err := conn.Query(ctx, `INSERT INTO consumers (id, username, ws_id) SELECT '7f0d3c3e-2b7b-4d4e-9a39-5a4b8b0b8e01', 'alice', id FROM workspaces WHERE name = 'default';
		INSERT INTO token_credentials (id, consumer_id, key, ws_id) SELECT '8f0d3c3e-2b7b-4d4e-9a39-5a4b8b0b8e02', '7f0d3c3e-2b7b-4d4e-9a39-5a4b8b0b8e01', 'secret', id FROM workspaces WHERE name = 'default';`)
	if err != nil {
		t.Fatal(err)
	}

	// The plugin is upgraded: its index names the upgrade migration.
	if err := os.WriteFile(index, []byte("return {\n  \"000_base_token_auth\",\n  \"001_100_to_110\",\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	_, m = migrator(t, dir, conn, &out)
	code, err := m.List(ctx)
	if err != nil || code != 5 {
		t.Fatalf("list before up: code %d err %v\n%s", code, err, out.String())
	}
	out.Reset()
	if err := m.Up(ctx, false); err != nil {
		t.Fatalf("up: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "token-auth migrated up to: 001_100_to_110 (pending)") {
		t.Fatalf("up output:\n%s", out.String())
	}
	res, err := conn.Query(ctx, `SELECT label FROM token_credentials`)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || !schema.IsNull(res.Rows[0]["label"]) {
		t.Fatalf("label before finish: %+v", res.Rows)
	}
	out.Reset()
	if err := m.Finish(ctx, false); err != nil {
		t.Fatalf("finish: %v\n%s", err, out.String())
	}
	res, err = conn.Query(ctx, `SELECT label FROM token_credentials`)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows[0]["label"] != "pre-1.1" {
		t.Fatalf("the teardown did not run through connector:query: %+v\n%s", res.Rows, out.String())
	}
	st, err := m.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !st.IsUpToDate() || len(st.Pending) != 0 {
		t.Fatalf("state after finish: %+v", st)
	}
}

// A Lua teardown that fails names plugin, migration and the error; a
// re-run after the fix continues from there.
func TestPluginMigrationTeardownFailure(t *testing.T) {
	ctx := context.Background()
	conn := freshConnector(t)
	dir := pluginCopy(t)
	up := filepath.Join(dir, "token-auth", "migrations", "001_100_to_110.lua")
	good, _ := os.ReadFile(up)
	broken := strings.Replace(string(good), `UPDATE "token_credentials"`, `UPDATE "no_such_table"`, 1)
	if err := os.WriteFile(up, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_, m := migrator(t, dir, conn, &out)
	err := m.Bootstrap(ctx, false)
	if err == nil {
		t.Fatalf("bootstrap with a failing teardown succeeded:\n%s", out.String())
	}
	for _, part := range []string{"001_100_to_110", "teardown", "no_such_table"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not name %q", err, part)
		}
	}
	st, err := m.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !st.IsMigrationExecuted("token-auth", "000_base_token_auth") {
		t.Fatalf("completed migration not recorded: %+v", st)
	}
	// Fix, and finish continues: 001's up already ran (pending), its teardown runs now.
	if err := os.WriteFile(up, good, 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	_, m = migrator(t, dir, conn, &out)
	if err := m.Finish(ctx, false); err != nil {
		t.Fatalf("finish after fix: %v\n%s", err, out.String())
	}
	st, _ = m.State(ctx)
	if !st.IsUpToDate() || len(st.Pending) != 0 {
		t.Fatalf("state after fix: executed=%v pending=%v new=%v", st.Executed, st.Pending, st.New)
	}
}

// A host on PostgreSQL refuses to start while the database is not
// bootstrapped, or while an enabled plugin has migrations not yet run,
// naming them (Kong's check_state at start-up).
func TestHostRefusesUnmigratedDatabase(t *testing.T) {
	cfg := pgtest.NewDatabase(t)
	ctx := context.Background()
	pgConf := func(dir string) *Options {
		c := testConf(t, dir)
		c.Set("database", "postgres", "test")
		c.Set("pg_host", cfg.Host, "test")
		c.Set("pg_port", fmt.Sprint(cfg.Port), "test")
		c.Set("pg_user", cfg.User, "test")
		c.Set("pg_database", cfg.Database, "test")
		return &Options{Conf: c, Logger: quietLogger()}
	}
	_, err := New(*pgConf("../plugins"))
	if err == nil || !strings.Contains(err.Error(), "Database needs bootstrapping") {
		t.Fatalf("not bootstrapped: %v", err)
	}
	// Bootstrap with only response-stamp (no migrations) and core.
	conn, err := postgres.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	m := &migrations.Migrator{Conn: conn, Subsystems: []*migrations.Subsystem{migrations.Core()}, Owner: "test"}
	if err := m.Bootstrap(ctx, false); err != nil {
		t.Fatal(err)
	}
	_, err = New(*pgConf("../plugins"))
	if err == nil || !strings.Contains(err.Error(), "New migrations available") ||
		!strings.Contains(err.Error(), "token-auth: 000_base_token_auth, 001_100_to_110") {
		t.Fatalf("un-run plugin migrations: %v", err)
	}
	var out bytes.Buffer
	_, m = migrator(t, "../plugins", conn, &out)
	if err := m.Up(ctx, false); err != nil {
		t.Fatal(err)
	}
	if err := m.Finish(ctx, false); err != nil {
		t.Fatal(err)
	}
	h, err := New(*pgConf("../plugins"))
	if err != nil {
		t.Fatalf("migrated database refused: %v", err)
	}
	h.Close()
}

// freshConnector opens a connector on a database of the test's own.
func freshConnector(t *testing.T) *postgres.Connector {
	t.Helper()
	return freshConnectorFor(t, pgtest.NewDatabase(t))
}

// freshConnectorFor opens a connector on cfg, closed with the test.
func freshConnectorFor(t *testing.T, cfg postgres.Config) *postgres.Connector {
	t.Helper()
	conn, err := postgres.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// pluginCopy copies the token-auth example plugin into a temporary plugins
// dir that a test may edit.
func pluginCopy(t *testing.T) string {
	dir := t.TempDir()
	copyDir(t, "../plugins/token-auth", filepath.Join(dir, "token-auth"))
	return dir
}

// A plugin migration written as Kong's bundled 2.1 migrations are, with
// kong.db.migrations.operations.200_to_210 (and a cassandra half that is
// ignored), runs up and teardown and leaves a workspace-aware table the
// DAO can use.
func TestOperations200To210(t *testing.T) {
	ctx := context.Background()
	conn := freshConnector(t)
	var out bytes.Buffer
	_, m := migrator(t, "testdata/ws", conn, &out)
	if err := m.Bootstrap(ctx, false); err != nil {
		t.Fatalf("bootstrap: %v\n%s", err, out.String())
	}
	res, err := conn.Query(ctx, `SELECT conname FROM pg_constraint WHERE conrelid = 'ws_creds'::regclass ORDER BY conname`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range res.Rows {
		names = append(names, r["conname"].(string))
	}
	got := strings.Join(names, ",")
	for _, want := range []string{"ws_creds_ws_id_key_unique", "ws_creds_id_ws_id_unique", "ws_creds_consumer_id_fkey"} {
		if !strings.Contains(got, want) {
			t.Errorf("constraint %s missing: %s", want, got)
		}
	}
	if strings.Contains(got, "ws_creds_key_key") {
		t.Errorf("the global unique on key was not replaced: %s", got)
	}
}

// operations.280_to_300's fixup_plugin_config rewrites the configs of one
// plugin in a teardown, as http-log's migration does.
func TestOperationsFixupPluginConfig(t *testing.T) {
	ctx := context.Background()
	conn := freshConnector(t)
	dir := t.TempDir()
	copyDir(t, "testdata/ws/ws-creds", filepath.Join(dir, "ws-creds"))
	index := filepath.Join(dir, "ws-creds", "migrations", "init.lua")
	if err := os.WriteFile(index, []byte(`return { "000_base_ws_creds", "001_200_to_210" }`), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	_, m := migrator(t, dir, conn, &out)
	if err := m.Bootstrap(ctx, false); err != nil {
		t.Fatalf("bootstrap: %v\n%s", err, out.String())
	}
	_, err := conn.Query(ctx, `INSERT INTO plugins (id, name, config, enabled, ws_id)
		SELECT 'aaaaaaaa-2b7b-4d4e-9a39-5a4b8b0b8e01', 'ws-creds', '{"old_timeout": 7}', true, id FROM workspaces WHERE name = 'default';
		INSERT INTO plugins (id, name, config, enabled, ws_id)
		SELECT 'bbbbbbbb-2b7b-4d4e-9a39-5a4b8b0b8e01', 'other', '{"old_timeout": 9}', true, id FROM workspaces WHERE name = 'default';`)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(index, []byte(`return { "000_base_ws_creds", "001_200_to_210", "002_280_to_300" }`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, m = migrator(t, dir, conn, &out)
	if err := m.Up(ctx, false); err != nil {
		t.Fatalf("up: %v\n%s", err, out.String())
	}
	if err := m.Finish(ctx, false); err != nil {
		t.Fatalf("finish: %v\n%s", err, out.String())
	}
	res, err := conn.Query(ctx, `SELECT name, config FROM plugins ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	other, mine := res.Rows[0]["config"].(map[string]any), res.Rows[1]["config"].(map[string]any)
	if mine["timeout"] != float64(7) || mine["old_timeout"] != nil {
		t.Errorf("ws-creds config not fixed: %v", mine)
	}
	if other["old_timeout"] != float64(9) || other["timeout"] != nil {
		t.Errorf("another plugin's config was touched: %v", other)
	}
}
