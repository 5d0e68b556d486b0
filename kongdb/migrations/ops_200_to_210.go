package migrations

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/luahost/luahost/kongdb/postgres"
	"github.com/luahost/luahost/kongdb/schema"
)

// The SQL builders of Kong's kong.db.migrations.operations.200_to_210 (the
// 2.0 -> 2.1 workspace migration), which plugin migrations call through
// ws_migrate_plugin. Constraint names are Kong's, so later migrations that
// drop them by name work on either.

// WsFK is one foreign key of a WsEntity.
type WsFK struct {
	Name      string // schema field name, e.g. "consumer" (column consumer_id)
	Reference string // referenced table, e.g. "consumers"
	OnDelete  string // "cascade" or ""
}

// WsEntity describes a table for the workspace migration.
type WsEntity struct {
	Name        string // table
	PrimaryKey  string
	Uniques     []string
	FKs         []WsFK
	CacheKey    []string
	Partitioned bool
}

// WsAddWorkspaces creates the workspaces table and the default row.
func WsAddWorkspaces(defaultID string) string {
	return `CREATE TABLE IF NOT EXISTS "workspaces" (
  "id"          UUID PRIMARY KEY,
  "name"        TEXT UNIQUE,
  "comment"     TEXT,
  "created_at"  ` + tsNow0 + `,
  "meta"        JSONB,
  "config"      JSONB
);
INSERT INTO "workspaces" ("id", "name") VALUES (` + postgres.EscapeLiteral(defaultID) + `, 'default') ON CONFLICT DO NOTHING;
`
}

// WsAddWsID adds ws_id (defaulting to the default workspace) and the
// UNIQUE (id, ws_id) constraint "<t>_id_ws_id_unique".
func WsAddWsID(table string) string {
	t := postgres.EscapeIdentifier(table)
	return fmt.Sprintf(`DO $$
BEGIN
  EXECUTE format('ALTER TABLE IF EXISTS ONLY %%I ADD "ws_id" UUID REFERENCES "workspaces" ("id") DEFAULT %%L',
                 %s, (SELECT "id" FROM "workspaces" WHERE "name" = 'default'));
EXCEPTION WHEN duplicate_column THEN
END;
$$;
DO $$
BEGIN
  ALTER TABLE IF EXISTS ONLY %s ADD CONSTRAINT %s UNIQUE ("id", "ws_id");
EXCEPTION WHEN duplicate_table THEN
END$$;
`, postgres.EscapeLiteral(table), t, postgres.EscapeIdentifier(table+"_id_ws_id_unique"))
}

// WsUniqueField replaces UNIQUE (field) ("<t>_<f>_key") by UNIQUE (ws_id,
// field) ("<t>_ws_id_<f>_unique").
func WsUniqueField(table, field string) string {
	t := postgres.EscapeIdentifier(table)
	return fmt.Sprintf(`ALTER TABLE IF EXISTS ONLY %s DROP CONSTRAINT IF EXISTS %s;
DO $$
BEGIN
  ALTER TABLE IF EXISTS ONLY %s ADD CONSTRAINT %s UNIQUE ("ws_id", %s);
EXCEPTION WHEN duplicate_table THEN
END$$;
`, t, postgres.EscapeIdentifier(table+"_"+field+"_key"), t,
		postgres.EscapeIdentifier(table+"_ws_id_"+field+"_unique"), postgres.EscapeIdentifier(field))
}

// WsAdjustForeignKey makes "<t>_<fk>_id_fkey" a (fk_id, ws_id) foreign key.
func WsAdjustForeignKey(table, fkPrefix, foreignTable string, cascade bool) string {
	t := postgres.EscapeIdentifier(table)
	name := postgres.EscapeIdentifier(table + "_" + fkPrefix + "_id_fkey")
	action := ""
	if cascade {
		action = " ON DELETE CASCADE"
	}
	return fmt.Sprintf(`ALTER TABLE IF EXISTS ONLY %s DROP CONSTRAINT IF EXISTS %s;
DO $$
BEGIN
  ALTER TABLE IF EXISTS ONLY %s ADD CONSTRAINT %s
    FOREIGN KEY (%s, "ws_id") REFERENCES %s ("id", "ws_id")%s;
EXCEPTION WHEN duplicate_object THEN
END$$;
`, t, name, t, name, postgres.EscapeIdentifier(fkPrefix+"_id"), postgres.EscapeIdentifier(foreignTable), action)
}

// WsAdjustFields is ws_adjust_fields: ws_id, foreign keys, uniques.
func WsAdjustFields(entities []WsEntity) string {
	var out []string
	for _, e := range entities {
		out = append(out, WsAddWsID(e.Name))
		for _, fk := range e.FKs {
			out = append(out, WsAdjustForeignKey(e.Name, fk.Name, fk.Reference, fk.OnDelete == "cascade"))
		}
		for _, u := range e.Uniques {
			out = append(out, WsUniqueField(e.Name, u))
		}
	}
	return strings.Join(out, "\n")
}

// WsUpdateCompositeCacheKey appends ":<default ws id>" to cache keys that
// end in ":".
func WsUpdateCompositeCacheKey(ctx context.Context, c *postgres.Connector, table string) error {
	_, err := c.Query(ctx, `UPDATE `+postgres.EscapeIdentifier(table)+`
   SET cache_key = CONCAT(cache_key, ':', (SELECT id FROM workspaces WHERE name = 'default'))
 WHERE cache_key LIKE '%:';`)
	return err
}

// WsUpdateKeys drops the ws_id default once rows are populated.
func WsUpdateKeys(ctx context.Context, c *postgres.Connector, table string) error {
	_, err := c.Query(ctx, `ALTER TABLE IF EXISTS ONLY `+postgres.EscapeIdentifier(table)+` ALTER "ws_id" SET DEFAULT NULL;`)
	return err
}

// WsAdjustData is ws_adjust_data, the teardown half.
func WsAdjustData(ctx context.Context, c *postgres.Connector, entities []WsEntity) error {
	for _, e := range entities {
		if len(e.CacheKey) > 1 {
			if err := WsUpdateCompositeCacheKey(ctx, c, e.Name); err != nil {
				return err
			}
		}
		if err := WsUpdateKeys(ctx, c, e.Name); err != nil {
			return err
		}
	}
	return nil
}

// WsMigratePlugin is ws_migrate_plugin(entities): a migration whose up is
// WsAdjustFields and whose teardown is WsAdjustData.
func WsMigratePlugin(name string, entities []WsEntity) *Migration {
	return &Migration{Name: name, Up: WsAdjustFields(entities),
		TeardownGo: func(ctx context.Context, c *postgres.Connector) error { return WsAdjustData(ctx, c, entities) }}
}

// FixupPluginConfig is fixup_plugin_config: fix is called with each config
// of plugin name; when it reports a change, the config is written back.
func FixupPluginConfig(ctx context.Context, c *postgres.Connector, pluginName string, fix func(config map[string]any) bool) error {
	res, err := c.Query(ctx, `SELECT id, name, config FROM plugins WHERE name = `+postgres.EscapeLiteral(pluginName))
	if err != nil {
		return err
	}
	for _, row := range res.Rows {
		conf, _ := row["config"].(map[string]any)
		if conf == nil || !fix(conf) {
			continue
		}
		b, err := json.Marshal(schema.JSONReady(conf))
		if err != nil {
			return err
		}
		if _, err := c.Query(ctx, `UPDATE plugins SET config = `+postgres.EscapeLiteral(string(b))+`::jsonb WHERE id = `+
			postgres.EscapeLiteral(row["id"])); err != nil {
			return err
		}
	}
	return nil
}
