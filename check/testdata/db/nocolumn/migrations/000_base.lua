return {
  postgres = {
    up = [[
      CREATE TABLE IF NOT EXISTS "nocolumn_items" (
        "id"          UUID                      PRIMARY KEY,
        "created_at"  TIMESTAMP WITH TIME ZONE  DEFAULT (CURRENT_TIMESTAMP(0) AT TIME ZONE 'UTC'),
        "consumer_id" UUID,
        "name"        TEXT,
        "tags"        TEXT[],
        "cache_key"   TEXT                      UNIQUE,
        "ws_id"       UUID                      REFERENCES "workspaces" ("id"),
        "ttl"         TIMESTAMP WITH TIME ZONE,
        UNIQUE ("id", "ws_id"),
        UNIQUE ("ws_id", "name"),
        FOREIGN KEY ("consumer_id", "ws_id") REFERENCES "consumers" ("id", "ws_id") ON DELETE CASCADE
      );

      CREATE INDEX IF NOT EXISTS "nocolumn_items_ttl_idx" ON "nocolumn_items" ("ttl");
      CREATE INDEX IF NOT EXISTS "nocolumn_items_tags_idx" ON "nocolumn_items" USING GIN ("tags");
      DROP TRIGGER IF EXISTS "nocolumn_items_sync_tags_trigger" ON "nocolumn_items";
      CREATE TRIGGER "nocolumn_items_sync_tags_trigger" AFTER INSERT OR UPDATE OF "tags" OR DELETE ON "nocolumn_items"
        FOR EACH ROW EXECUTE PROCEDURE sync_tags();
    ]],
  },
}
