package migrations

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/luahost/luahost/kongdb/postgres"
	"github.com/luahost/luahost/kongdb/postgres/pgtest"
)

func newMigrator(t *testing.T, c *postgres.Connector, subs ...*Subsystem) (*Migrator, *bytes.Buffer) {
	out := &bytes.Buffer{}
	return &Migrator{Conn: c, Subsystems: append([]*Subsystem{Core()}, subs...), Out: out}, out
}

func mustQuery(t *testing.T, c *postgres.Connector, sql string) *postgres.QueryResult {
	t.Helper()
	r, err := c.Query(context.Background(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return r
}

func TestBootstrapCoreThenUpToDate(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Open(t)
	m, out := newMigrator(t, c)

	code, err := m.List(ctx)
	if err != nil || code != 3 {
		t.Fatalf("list before bootstrap: code %d err %v", code, err)
	}
	if !strings.HasPrefix(out.String(), "Database needs bootstrapping or is older than Kong 1.0.") {
		t.Fatalf("list output: %q", out.String())
	}
	out.Reset()

	if err := m.Bootstrap(ctx, false); err != nil {
		t.Fatal(err)
	}
	log := out.String()
	for _, want := range []string{
		"Bootstrapping database...\n",
		"migrating core on database '",
		"core migrated up to: 000_base (executed)\n",
		"core migrated up to: 008_150_to_200 (executed)\n",
		"core migrated up to: 025_390_to_3100 (executed)\n",
		"24 migrations processed\n24 executed\nDatabase is up-to-date\n",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("bootstrap log lacks %q:\n%s", want, log)
		}
	}

	// schema_meta as Kong writes it: one core row, every name executed,
	// nothing pending (bootstrap runs teardowns too).
	r := mustQuery(t, c, "SELECT last_executed, array_length(executed, 1) AS n, pending FROM schema_meta WHERE key = 'schema_meta' AND subsystem = 'core'")
	if len(r.Rows) != 1 || r.Rows[0]["last_executed"] != "025_390_to_3100" || r.Rows[0]["n"] != float64(24) {
		t.Fatalf("schema_meta row: %v", r.Rows)
	}
	if p, ok := r.Rows[0]["pending"].([]any); !ok || len(p) != 0 {
		t.Fatalf("pending = %#v, want empty array", r.Rows[0]["pending"])
	}
	// The default workspace, the cluster_events ttl trigger, sync_tags.
	if r := mustQuery(t, c, "SELECT count(*) AS n FROM workspaces WHERE name = 'default'"); r.Rows[0]["n"] != float64(1) {
		t.Fatalf("default workspace: %v", r.Rows)
	}
	if r := mustQuery(t, c, "SELECT tgname FROM pg_trigger WHERE tgname IN ('cluster_events_ttl_trigger', 'consumers_sync_tags_trigger') ORDER BY 1"); len(r.Rows) != 2 {
		t.Fatalf("triggers: %v", r.Rows)
	}
	mustQuery(t, c, `INSERT INTO consumers (id, username, tags, ws_id) SELECT '6c1a0a9e-0000-4000-8000-000000000001', 'bob', '{a,b}', id FROM workspaces`)
	if r := mustQuery(t, c, "SELECT entity_name, tags FROM tags"); len(r.Rows) != 1 || r.Rows[0]["entity_name"] != "consumers" {
		t.Fatalf("sync_tags: %v", r.Rows)
	}
	mustQuery(t, c, `INSERT INTO cluster_events (id, node_id, at, expire_at, channel) VALUES
		('6c1a0a9e-0000-4000-8000-000000000002', '6c1a0a9e-0000-4000-8000-000000000003', now(), now() - interval '1 hour', 'x'),
		('6c1a0a9e-0000-4000-8000-000000000004', '6c1a0a9e-0000-4000-8000-000000000003', now(), now() - interval '1 hour', 'x')`)
	mustQuery(t, c, `INSERT INTO cluster_events (id, node_id, at, expire_at, channel) VALUES
		('6c1a0a9e-0000-4000-8000-000000000005', '6c1a0a9e-0000-4000-8000-000000000003', now(), now() + interval '1 hour', 'x')`)
	if r := mustQuery(t, c, "SELECT count(*) AS n FROM cluster_events"); r.Rows[0]["n"] != float64(1) {
		t.Fatalf("batch_delete_expired_rows left %v rows", r.Rows[0]["n"])
	}

	out.Reset()
	if err := m.Bootstrap(ctx, false); err != nil || out.String() != "Database already bootstrapped\n" {
		t.Fatalf("second bootstrap: %v %q", err, out.String())
	}
	out.Reset()
	if err := m.Up(ctx, false); err != nil || out.String() != "Database is already up-to-date\n" {
		t.Fatalf("up: %v %q", err, out.String())
	}
	out.Reset()
	if err := m.Finish(ctx, false); err != nil || out.String() != "No pending migrations to finish\n" {
		t.Fatalf("finish: %v %q", err, out.String())
	}
	out.Reset()
	if code, err := m.List(ctx); code != 0 || err != nil || !strings.HasPrefix(out.String(), "Executed migrations:\ncore: 000_base, 003_100_to_110,") {
		t.Fatalf("list: %d %v %q", code, err, out.String())
	}
	js, err := m.Status(ctx)
	if err != nil || !strings.HasPrefix(string(js), `{"needs_bootstrap":false,"executed_migrations":[{"subsystem":"core","namespace":"kong.db.migrations.core","migrations":["000_base",`) {
		t.Fatalf("status: %s %v", js, err)
	}

	// reset, then the database needs bootstrapping again
	out.Reset()
	if code, err := m.Reset(ctx); code != 0 || err != nil {
		t.Fatalf("reset: %d %v", code, err)
	}
	if out.String() != "Resetting database...\nDatabase successfully reset\n" {
		t.Fatalf("reset log %q", out.String())
	}
	st, err := m.State(ctx)
	if err != nil || !st.NeedsBootstrap {
		t.Fatalf("state after reset: %+v %v", st, err)
	}
	out.Reset()
	if code, _ := m.Reset(ctx); code != 1 || out.String() != "Database not bootstrapped, nothing to reset\n" {
		t.Fatalf("reset twice: %d %q", code, out.String())
	}
	if err := m.Up(ctx, false); err == nil || err.Error() != "Cannot run migrations: "+NeedsBootstrapMsg {
		t.Fatalf("up without bootstrap: %v", err)
	}
}

// A plugin with a teardown: up leaves it pending, finish runs the teardown.
func TestUpFinishWithTeardown(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Open(t)
	m, out := newMigrator(t, c)
	if err := m.Bootstrap(ctx, false); err != nil {
		t.Fatal(err)
	}
	torn := 0
	plugin := &Subsystem{Name: "myplugin", Namespace: "kong.plugins.myplugin.migrations", Migrations: []*Migration{
		{Name: "000_base_myplugin", Up: `CREATE TABLE IF NOT EXISTS "things" ("id" UUID PRIMARY KEY, "old" TEXT, "new" TEXT)`},
		{Name: "001_split", Up: `ALTER TABLE "things" ADD COLUMN IF NOT EXISTS "extra" TEXT`,
			TeardownGo: func(ctx context.Context, c *postgres.Connector) error {
				torn++
				_, err := c.Query(ctx, `ALTER TABLE "things" DROP COLUMN IF EXISTS "old"`)
				return err
			}},
	}}
	m.Subsystems = append(m.Subsystems, plugin)
	out.Reset()
	if code, _ := m.List(ctx); code != 5 {
		t.Fatalf("list with new migrations: %d\n%s", code, out)
	}
	if !strings.Contains(out.String(), "New migrations available:\nmyplugin: 000_base_myplugin, 001_split\n\nRun 'kong migrations up' to proceed\n") {
		t.Fatalf("list: %q", out.String())
	}
	out.Reset()
	if err := m.Up(ctx, false); err != nil {
		t.Fatal(err)
	}
	want := "migrating myplugin on database '" + c.Config().Database + "'...\n" +
		"myplugin migrated up to: 000_base_myplugin (executed)\n" +
		"myplugin migrated up to: 001_split (pending)\n" +
		"2 migrations processed\n1 executed\n1 pending\n" +
		"\nDatabase has pending migrations; run 'kong migrations finish' when ready\n"
	if out.String() != want {
		t.Fatalf("up log:\n%q\nwant\n%q", out.String(), want)
	}
	r := mustQuery(t, c, "SELECT last_executed, executed, pending FROM schema_meta WHERE subsystem = 'myplugin'")
	if r.Rows[0]["last_executed"] != "000_base_myplugin" || len(r.Rows[0]["pending"].([]any)) != 1 {
		t.Fatalf("meta after up: %v", r.Rows)
	}
	if err := m.Up(ctx, false); err == nil || err.Error() != "Database has pending migrations; run 'kong migrations finish'" {
		t.Fatalf("second up: %v", err)
	}
	out.Reset()
	if code, _ := m.List(ctx); code != 4 {
		t.Fatalf("list with pending: %d %s", code, out)
	}
	out.Reset()
	if err := m.Finish(ctx, false); err != nil {
		t.Fatal(err)
	}
	if torn != 1 || !strings.Contains(out.String(), "myplugin migrated up to: 001_split (executed)\n1 migration processed\n1 executed\n") {
		t.Fatalf("finish: torn=%d log %q", torn, out.String())
	}
	r = mustQuery(t, c, "SELECT last_executed, executed, pending FROM schema_meta WHERE subsystem = 'myplugin'")
	if r.Rows[0]["last_executed"] != "001_split" || len(r.Rows[0]["pending"].([]any)) != 0 {
		t.Fatalf("meta after finish: %v", r.Rows)
	}
	if r := mustQuery(t, c, "SELECT column_name FROM information_schema.columns WHERE table_name = 'things' AND column_name = 'old'"); len(r.Rows) != 0 {
		t.Fatal("teardown did not run")
	}
}

// A failing migration names subsystem, migration, the SQL error and its
// SQLSTATE; schema_meta records exactly what completed; after the fix a
// re-run continues.
func TestFailingMigrationThenFix(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Open(t)
	m, out := newMigrator(t, c)
	if err := m.Bootstrap(ctx, false); err != nil {
		t.Fatal(err)
	}
	bad := &Migration{Name: "001_broken", Up: `CREATE TABLE "a" ("id" UUID PRIMARY KEY); ALTER TABLE "nope" ADD COLUMN "x" TEXT;`}
	plugin := &Subsystem{Name: "p", Namespace: "kong.plugins.p.migrations", Migrations: []*Migration{
		{Name: "000_base_p", Up: `CREATE TABLE IF NOT EXISTS "p_things" ("id" UUID PRIMARY KEY)`},
		bad,
		{Name: "002_after", Up: `CREATE TABLE IF NOT EXISTS "p_more" ("id" UUID PRIMARY KEY)`},
	}}
	m.Subsystems = append(m.Subsystems, plugin)
	out.Reset()
	err := m.Up(ctx, false)
	var me *Error
	if !errors.As(err, &me) {
		t.Fatalf("want *Error, got %T %v", err, err)
	}
	if me.Subsystem != "p" || me.Migration != "001_broken" || me.SQLState != "42P01" || me.Step != "up" {
		t.Fatalf("error fields: %+v", me)
	}
	if me.Error() != `[PostgreSQL error] failed to run migration '001_broken' up: ERROR: relation "nope" does not exist` {
		t.Fatalf("message: %q", me.Error())
	}
	// 000 recorded; 001 rolled back entirely (table "a" absent); 002 not run.
	r := mustQuery(t, c, "SELECT last_executed, executed FROM schema_meta WHERE subsystem = 'p'")
	if r.Rows[0]["last_executed"] != "000_base_p" || len(r.Rows[0]["executed"].([]any)) != 1 {
		t.Fatalf("meta: %v", r.Rows)
	}
	if r := mustQuery(t, c, "SELECT to_regclass('a') IS NULL AS gone"); r.Rows[0]["gone"] != true {
		t.Fatal("failed migration was not rolled back")
	}
	// The lock was released: the fix can run.
	bad.Up = `CREATE TABLE IF NOT EXISTS "a" ("id" UUID PRIMARY KEY)`
	out.Reset()
	if err := m.Up(ctx, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "p migrated up to: 001_broken (executed)\np migrated up to: 002_after (executed)\n2 migrations processed\n") {
		t.Fatalf("re-run log %q", out.String())
	}
}

// Kong's state walk: a hole before last_executed is "new"; the
// last_executed migration absent from both arrays is "missing".
func TestStateClassification(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Open(t)
	m, _ := newMigrator(t, c)
	if err := m.Bootstrap(ctx, false); err != nil {
		t.Fatal(err)
	}
	sub := &Subsystem{Name: "s", Namespace: "kong.plugins.s.migrations", Migrations: []*Migration{
		{Name: "a"}, {Name: "b"}, {Name: "c"}, {Name: "d"}, {Name: "e"},
	}}
	m.Subsystems = []*Subsystem{sub}
	mustQuery(t, c, `INSERT INTO schema_meta (key, subsystem, last_executed, executed, pending)
		VALUES ('schema_meta', 's', 'c', '{a}', '{d}')`)
	st, err := m.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := "executed " + st.Executed.String() + " | pending " + st.Pending.String() +
		" | missing " + st.Missing.String() + " | new " + st.New.String()
	if want := "executed s: a | pending s: d | missing s: c | new s: b, e"; got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if st.IsUpToDate() {
		t.Fatal("up to date with new migrations")
	}
}

// Tables without schema_meta: bootstrap refuses, unless forced.
func TestBootstrapRefusesForeignTables(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Open(t)
	mustQuery(t, c, `CREATE TABLE consumers (id UUID PRIMARY KEY, legacy TEXT)`)
	m, out := newMigrator(t, c)
	err := m.Bootstrap(ctx, false)
	if err == nil || err.Error() != "Database is not bootstrapped but already has Kong tables (consumers); run 'kong migrations bootstrap --force' to reset it and bootstrap" {
		t.Fatalf("bootstrap: %v", err)
	}
	if st, _ := m.State(ctx); !st.NeedsBootstrap {
		t.Fatal("refused bootstrap left schema_meta behind")
	}
	out.Reset()
	if err := m.Bootstrap(ctx, true); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "Database not bootstrapped, nothing to reset\nResetting database...\nDatabase successfully reset\nBootstrapping database...\n") ||
		!strings.Contains(out.String(), "Database is up-to-date") {
		t.Fatalf("forced bootstrap: %q", out.String())
	}
}

// `up` commits together with an "up done" marker: when up_f fails, the
// re-run resumes at up_f and never applies `up` twice (Kong would: it
// records the migration only after up_f). Kong sees no trace of the
// marker: its schema_meta row is unchanged until the migration completes.
func TestUpFFailureResumesAtUpF(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Open(t)
	m, out := newMigrator(t, c)
	if err := m.Bootstrap(ctx, false); err != nil {
		t.Fatal(err)
	}
	calls := 0
	fail := true
	plugin := &Subsystem{Name: "p", Namespace: "kong.plugins.p.migrations", Migrations: []*Migration{
		// not idempotent: a second run of `up` fails (the table exists)
		// and would add a second row
		{Name: "000_base_p", Up: `CREATE TABLE "p_things" ("id" SERIAL PRIMARY KEY); INSERT INTO "p_things" DEFAULT VALUES;`,
			UpFGo: func(ctx context.Context, c *postgres.Connector) error {
				calls++
				if fail {
					return errors.New("up_f failed")
				}
				return nil
			}},
	}}
	m.Subsystems = append(m.Subsystems, plugin)
	err := m.Up(ctx, false)
	var me *Error
	if !errors.As(err, &me) || me.Step != "up_f" {
		t.Fatalf("first up: %v", err)
	}
	if r := mustQuery(t, c, "SELECT count(*) AS n FROM schema_meta WHERE key = 'schema_meta' AND subsystem = 'p'"); r.Rows[0]["n"] != float64(0) {
		t.Fatalf("a migration whose up_f failed is recorded for Kong: %v", r.Rows)
	}
	fail = false
	out.Reset()
	if err := m.Up(ctx, false); err != nil {
		t.Fatalf("re-run: %v\n%s", err, out)
	}
	if calls != 2 {
		t.Fatalf("up_f ran %d times, want 2", calls)
	}
	if r := mustQuery(t, c, `SELECT count(*) AS n FROM "p_things"`); r.Rows[0]["n"] != float64(1) {
		t.Fatalf("up applied twice: %v rows", r.Rows[0]["n"])
	}
	r := mustQuery(t, c, "SELECT key, executed FROM schema_meta WHERE subsystem = 'p'")
	if len(r.Rows) != 1 || r.Rows[0]["key"] != "schema_meta" || len(r.Rows[0]["executed"].([]any)) != 1 {
		t.Fatalf("schema_meta after the re-run: %v", r.Rows)
	}
}

// 013_220_to_230 inserts the cluster id kong.cluster.get_id() reads, as
// Kong's does; running its SQL again (a second Core(), another id) keeps
// the first.
func TestBootstrapInsertsClusterID(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Open(t)
	m, _ := newMigrator(t, c)
	if err := m.Bootstrap(ctx, false); err != nil {
		t.Fatal(err)
	}
	q := "SELECT value FROM parameters WHERE key = 'cluster_id'"
	r := mustQuery(t, c, q)
	if len(r.Rows) != 1 {
		t.Fatalf("cluster_id rows: %v", r.Rows)
	}
	id, _ := r.Rows[0]["value"].(string)
	if _, err := uuid.Parse(id); err != nil {
		t.Fatalf("cluster_id %q: %v", id, err)
	}
	for _, mig := range Core().Migrations {
		if mig.Name == "013_220_to_230" {
			mustQuery(t, c, mig.Up)
		}
	}
	if r := mustQuery(t, c, q); len(r.Rows) != 1 || r.Rows[0]["value"] != id {
		t.Fatalf("after 013 again: %v, want %s", r.Rows, id)
	}
}
