package host

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writePluginFiles writes files (name -> content) into dir/plugin.
func writePluginFiles(t *testing.T, dir, plugin string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, plugin, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// oldMigrationsPlugin is a Kong 0.x plugin whose migrations are
// migrations/postgres.lua (an SQL up and a function up, each with a down
// that leaves a trace outside the plugin's schema) and cassandra.lua.
func oldMigrationsPlugin(t *testing.T, failing bool) string {
	dir := t.TempDir()
	second := `function(db, kong_config, dao)
      local _, err = db:query("INSERT INTO notes (id, text) VALUES ('6a7c0a64-5d3e-4d0f-9f59-0f6f3c1a2b3c', 'seeded by "
        .. type(kong_config) .. " " .. type(dao) .. "')")
      return err
    end`
	if failing {
		second = `function() return "the seed is missing" end`
	}
	writePluginFiles(t, dir, "old-mig", map[string]string{
		"handler.lua": `local BasePlugin = require "kong.plugins.base_plugin"
local H = BasePlugin:extend()
function H:new() H.super.new(self, "old-mig") end
return H`,
		"schema.lua": `return { fields = { note = { type = "string" } } }`,
		"daos.lua": `return { notes = { table = "notes", primary_key = { "id" }, fields = {
  id = { type = "id", dao_insert_value = true }, text = { type = "string" } } } }`,
		"migrations/postgres.lua": `return {
  {
    name = "2016-01-01-000000_init_notes",
    up = [[ CREATE TABLE IF NOT EXISTS notes (id uuid PRIMARY KEY, text text); ]],
    down = [[ INSERT INTO legacy_audit.log (what) VALUES ('down init'); DROP TABLE notes; ]],
  },
  {
    name = "2016-02-01-000000_seed_notes",
    up = ` + second + `,
    down = function(db)
      local _, err = db:query("INSERT INTO legacy_audit.log (what) VALUES ('down seed')")
      return err
    end,
  },
}`,
		"migrations/cassandra.lua": `return {
  { name = "2016-01-01-000000_init_notes", up = [[ CREATE TABLE notes (id uuid PRIMARY KEY, text text); ]],
    down = [[ DROP TABLE notes; ]] },
}`,
	})
	return dir
}

// Kong 0.x migrations/postgres.lua: run in order (an SQL up, then a
// function(db, kong_config, dao) up) by bootstrap, recorded in schema_meta
// under the plugin's name beside core's; a second `up` has nothing to do;
// `migrations reset` runs their downs newest first before it drops the
// schema; the cassandra file is not run.
func TestLegacyMigrationsUpAndReset(t *testing.T) {
	ctx := context.Background()
	conn := freshConnector(t)
	var out bytes.Buffer
	_, m := migrator(t, oldMigrationsPlugin(t, false), conn, &out)
	if err := m.Bootstrap(ctx, false); err != nil {
		t.Fatalf("bootstrap: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "old-mig migrated up to: 2016-02-01-000000_seed_notes (executed)") {
		t.Fatalf("bootstrap output:\n%s", out.String())
	}
	res, err := conn.Query(ctx, `SELECT text FROM notes`)
	if err != nil || len(res.Rows) != 1 || res.Rows[0]["text"] != "seeded by table table" {
		t.Fatalf("notes after up: %v %v", res, err)
	}
	res, err = conn.Query(ctx, `SELECT executed FROM schema_meta WHERE subsystem = 'old-mig'`)
	if err != nil || len(res.Rows) != 1 {
		t.Fatalf("schema_meta: %v %v", res, err)
	}
	if got := strings.Join(strs(res.Rows[0]["executed"]), ","); got != "2016-01-01-000000_init_notes,2016-02-01-000000_seed_notes" {
		t.Fatalf("executed: %s", got)
	}
	out.Reset()
	if err := m.Up(ctx, false); err != nil {
		t.Fatalf("up: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "Database is already up-to-date") {
		t.Fatalf("second up:\n%s", out.String())
	}

	if _, err := conn.Query(ctx, `CREATE SCHEMA legacy_audit; CREATE TABLE legacy_audit.log (n serial PRIMARY KEY, what text)`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = conn.Query(context.Background(), `DROP SCHEMA IF EXISTS legacy_audit CASCADE`) })
	out.Reset()
	if code, err := m.Reset(ctx); code != 0 || err != nil {
		t.Fatalf("reset: %d %v\n%s", code, err, out.String())
	}
	res, err = conn.Query(ctx, `SELECT what FROM legacy_audit.log ORDER BY n`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res.Rows {
		got = append(got, r["what"].(string))
	}
	if strings.Join(got, ",") != "down seed,down init" {
		t.Fatalf("downs run: %v\n%s", got, out.String())
	}
	if _, err := conn.Query(ctx, `SELECT 1 FROM schema_meta`); err == nil {
		t.Fatal("schema_meta survived the reset")
	}
}

// A 0.x up function returning an error fails the migration, naming it and
// the error.
func TestLegacyMigrationFailing(t *testing.T) {
	ctx := context.Background()
	conn := freshConnector(t)
	var out bytes.Buffer
	_, m := migrator(t, oldMigrationsPlugin(t, true), conn, &out)
	err := m.Bootstrap(ctx, false)
	if err == nil || !strings.Contains(err.Error(), "2016-02-01-000000_seed_notes") || !strings.Contains(err.Error(), "the seed is missing") {
		t.Fatalf("bootstrap: %v\n%s", err, out.String())
	}
}

func strs(v any) []string {
	var out []string
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		for _, e := range x {
			out = append(out, e.(string))
		}
	}
	return out
}
