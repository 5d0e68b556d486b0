package migrations

import (
	"context"
	"strings"
	"testing"

	"github.com/luahost/luahost/kongdb/postgres/pgtest"
)

// A database left by Kong 2.0 (core up to 008, tables without ws_id) is
// upgraded by `up` then `finish`: 009 makes it workspace-aware as Kong's
// 009 does, and the later migrations add what they add.
func TestUpgradeFromKong20(t *testing.T) {
	ctx := context.Background()
	c := pgtest.Open(t)
	if err := c.SchemaBootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	mustQuery(t, c, `
CREATE TABLE certificates (id UUID PRIMARY KEY, created_at TIMESTAMPTZ, cert TEXT, key TEXT, tags TEXT[]);
CREATE TABLE snis (id UUID PRIMARY KEY, created_at TIMESTAMPTZ, name TEXT NOT NULL UNIQUE, certificate_id UUID REFERENCES certificates (id), tags TEXT[]);
CREATE TABLE upstreams (id UUID PRIMARY KEY, created_at TIMESTAMPTZ, name TEXT UNIQUE, slots INTEGER NOT NULL, tags TEXT[]);
CREATE TABLE targets (id UUID PRIMARY KEY, created_at TIMESTAMPTZ, upstream_id UUID REFERENCES upstreams (id) ON DELETE CASCADE,
  target TEXT NOT NULL, weight INTEGER NOT NULL, tags TEXT[]);
CREATE TABLE consumers (id UUID PRIMARY KEY, created_at TIMESTAMPTZ, username TEXT UNIQUE, custom_id TEXT UNIQUE, tags TEXT[]);
CREATE TABLE services (id UUID PRIMARY KEY, created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ, name TEXT UNIQUE, host TEXT, tags TEXT[],
  client_certificate_id UUID REFERENCES certificates (id));
CREATE TABLE routes (id UUID PRIMARY KEY, created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ, name TEXT UNIQUE,
  service_id UUID REFERENCES services (id), paths TEXT[], tags TEXT[]);
CREATE TABLE plugins (id UUID PRIMARY KEY, created_at TIMESTAMPTZ, name TEXT NOT NULL,
  consumer_id UUID REFERENCES consumers (id) ON DELETE CASCADE, service_id UUID REFERENCES services (id) ON DELETE CASCADE,
  route_id UUID REFERENCES routes (id) ON DELETE CASCADE, config JSONB NOT NULL, enabled BOOLEAN NOT NULL,
  cache_key TEXT UNIQUE, protocols TEXT[], tags TEXT[]);
CREATE TABLE ca_certificates (id UUID PRIMARY KEY, created_at TIMESTAMPTZ, cert TEXT NOT NULL UNIQUE, tags TEXT[]);
CREATE TABLE cluster_events (id UUID PRIMARY KEY, node_id UUID NOT NULL, at TIMESTAMPTZ NOT NULL, nbf TIMESTAMPTZ,
  expire_at TIMESTAMPTZ NOT NULL, channel TEXT, data TEXT);
INSERT INTO consumers (id, username) VALUES ('6c1a0a9e-0000-4000-8000-000000000001', 'bob');
INSERT INTO plugins (id, name, config, enabled, cache_key) VALUES
  ('6c1a0a9e-0000-4000-8000-000000000002', 'key-auth', '{}', true, 'plugins:key-auth::::');
INSERT INTO schema_meta (key, subsystem, last_executed, executed) VALUES ('schema_meta', 'core', '008_150_to_200',
  '{000_base,003_100_to_110,004_110_to_120,005_120_to_130,006_130_to_140,007_140_to_150,008_150_to_200}');`)
	mustQuery(t, c, sqlTags) // what 003 left: the tags table and sync_tags()
	m, out := newMigrator(t, c)
	if err := m.Up(ctx, false); err != nil {
		t.Fatalf("up: %v\n%s", err, out)
	}
	if !strings.Contains(out.String(), "core migrated up to: 009_200_to_210 (pending)") ||
		!strings.Contains(out.String(), "Database has pending migrations; run 'kong migrations finish' when ready") {
		t.Fatalf("up log:\n%s", out)
	}
	if err := m.Finish(ctx, false); err != nil {
		t.Fatalf("finish: %v\n%s", err, out)
	}
	r := mustQuery(t, c, `SELECT c.ws_id = w.id AS same FROM consumers c, workspaces w WHERE w.name = 'default'`)
	if r.Rows[0]["same"] != true {
		t.Fatal("consumers not in the default workspace")
	}
	r = mustQuery(t, c, `SELECT conname FROM pg_constraint WHERE conrelid = 'consumers'::regclass AND contype = 'u' ORDER BY 1`)
	var names []string
	for _, row := range r.Rows {
		names = append(names, row["conname"].(string))
	}
	if got := strings.Join(names, ","); got != "consumers_id_ws_id_unique,consumers_ws_id_custom_id_unique,consumers_ws_id_username_unique" {
		t.Fatalf("consumers uniques: %s", got)
	}
	r = mustQuery(t, c, `SELECT p.cache_key = 'plugins:key-auth::::' || ':' || w.id AS ok FROM plugins p, workspaces w WHERE w.name = 'default'`)
	if r.Rows[0]["ok"] != true {
		t.Fatal("plugins cache_key not suffixed with the default workspace")
	}
	// Later migrations ran too: updated_at (019), and the state is clean.
	mustQuery(t, c, `SELECT updated_at, ws_id FROM consumers`)
	st, err := m.State(ctx)
	if err != nil || !st.IsUpToDate() || len(st.Pending) != 0 {
		t.Fatalf("state after finish: %+v %v", st, err)
	}
}
