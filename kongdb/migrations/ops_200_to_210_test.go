package migrations

import (
	"context"
	"strings"
	"testing"

	"github.com/luahost/luahost/kongdb/postgres/pgtest"
	"github.com/luahost/luahost/kongdb/schema"
)

// A key-auth table in its pre-2.1 shape goes through ws_migrate_plugin:
// ws_id added with the default workspace, UNIQUE (ws_id, key), the
// (consumer_id, ws_id) foreign key with cascade, and the teardown drops the
// ws_id default and suffixes composite cache keys.
func TestWsMigratePlugin(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Open(t)
	mustQuery(t, c, WsAddWorkspaces("6c1a0a9e-0000-4000-8000-00000000000f")+`
CREATE TABLE consumers (id UUID PRIMARY KEY, username TEXT UNIQUE);
CREATE TABLE keyauth_credentials (id UUID PRIMARY KEY, consumer_id UUID REFERENCES consumers (id) ON DELETE CASCADE,
  key TEXT UNIQUE, cache_key TEXT UNIQUE);
INSERT INTO consumers VALUES ('6c1a0a9e-0000-4000-8000-000000000001', 'bob');
INSERT INTO keyauth_credentials VALUES ('6c1a0a9e-0000-4000-8000-000000000002', '6c1a0a9e-0000-4000-8000-000000000001', 'k', 'keyauth_credentials:k:::::');`)
	m := &Migrator{Conn: c, Subsystems: []*Subsystem{
		{Name: "core", Namespace: CoreNamespace, Migrations: []*Migration{{Name: "ws", Up: WsAdjustFields([]WsEntity{
			{Name: "consumers", PrimaryKey: "id", Uniques: []string{"username"}}})}}},
		{Name: "key-auth", Namespace: "kong.plugins.key-auth.migrations", Migrations: []*Migration{
			WsMigratePlugin("003_200_to_210", []WsEntity{{Name: "keyauth_credentials", PrimaryKey: "id",
				Uniques: []string{"key"}, CacheKey: []string{"key", "consumer"},
				FKs: []WsFK{{Name: "consumer", Reference: "consumers", OnDelete: "cascade"}}}}),
		}},
	}}
	if err := c.SchemaBootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := m.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.RunMigrations(ctx, st.New, RunOptions{RunUp: true, RunTeardown: true}); err != nil {
		t.Fatal(err)
	}
	r := mustQuery(t, c, `SELECT conname FROM pg_constraint WHERE conrelid = 'keyauth_credentials'::regclass ORDER BY 1`)
	var names []string
	for _, row := range r.Rows {
		names = append(names, row["conname"].(string))
	}
	want := "keyauth_credentials_cache_key_key,keyauth_credentials_consumer_id_fkey,keyauth_credentials_id_ws_id_unique," +
		"keyauth_credentials_pkey,keyauth_credentials_ws_id_fkey,keyauth_credentials_ws_id_key_unique"
	if strings.Join(names, ",") != want {
		t.Fatalf("constraints\n%s\nwant\n%s", strings.Join(names, ","), want)
	}
	r = mustQuery(t, c, `SELECT ws_id, cache_key FROM keyauth_credentials`)
	if r.Rows[0]["ws_id"] != "6c1a0a9e-0000-4000-8000-00000000000f" ||
		r.Rows[0]["cache_key"] != "keyauth_credentials:k:::::"+":6c1a0a9e-0000-4000-8000-00000000000f" {
		t.Fatalf("data: %v", r.Rows)
	}
	r = mustQuery(t, c, `SELECT column_default FROM information_schema.columns WHERE table_name = 'keyauth_credentials' AND column_name = 'ws_id'`)
	if r.Rows[0]["column_default"] != nil && !isNullish(r.Rows[0]["column_default"]) {
		t.Fatalf("ws_id default kept: %v", r.Rows[0]["column_default"])
	}
	// Cascade through the composite foreign key.
	mustQuery(t, c, `DELETE FROM consumers`)
	if r := mustQuery(t, c, `SELECT count(*) AS n FROM keyauth_credentials`); r.Rows[0]["n"] != float64(0) {
		t.Fatal("cascade lost")
	}
}

func isNullish(v any) bool { return v == nil || schema.JSONReady(v) == nil }
