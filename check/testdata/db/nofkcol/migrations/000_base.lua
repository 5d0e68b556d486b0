return {
  postgres = {
    up = [[
      CREATE TABLE IF NOT EXISTS "nofkcol_items" (
        "id"          UUID                      PRIMARY KEY,
        "created_at"  TIMESTAMP WITH TIME ZONE  DEFAULT (CURRENT_TIMESTAMP(0) AT TIME ZONE 'UTC'),
        "name"        TEXT,
        "count"       BIGINT,
        "tags"        TEXT[],
        "cache_key"   TEXT                      UNIQUE,
        "ws_id"       UUID                      REFERENCES "workspaces" ("id"),
        "ttl"         TIMESTAMP WITH TIME ZONE,
        UNIQUE ("id", "ws_id"),
        UNIQUE ("ws_id", "name")
      );

      CREATE INDEX IF NOT EXISTS "nofkcol_items_ttl_idx" ON "nofkcol_items" ("ttl");
      CREATE INDEX IF NOT EXISTS "nofkcol_items_tags_idx" ON "nofkcol_items" USING GIN ("tags");
      DROP TRIGGER IF EXISTS "nofkcol_items_sync_tags_trigger" ON "nofkcol_items";
      CREATE TRIGGER "nofkcol_items_sync_tags_trigger" AFTER INSERT OR UPDATE OF "tags" OR DELETE ON "nofkcol_items"
        FOR EACH ROW EXECUTE PROCEDURE sync_tags();
    ]],
  },
}
