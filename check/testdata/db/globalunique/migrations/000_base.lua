return {
  postgres = {
    up = [[
      CREATE TABLE IF NOT EXISTS "globalunique_items" (
        "id"          UUID                      PRIMARY KEY,
        "created_at"  TIMESTAMP WITH TIME ZONE  DEFAULT (CURRENT_TIMESTAMP(0) AT TIME ZONE 'UTC'),
        "consumer_id" UUID,
        "name"        TEXT,
        "count"       BIGINT,
        "tags"        TEXT[],
        "cache_key"   TEXT                      UNIQUE,
        "ws_id"       UUID                      REFERENCES "workspaces" ("id"),
        "ttl"         TIMESTAMP WITH TIME ZONE,
        UNIQUE ("id", "ws_id"),
        UNIQUE ("name"),
        FOREIGN KEY ("consumer_id", "ws_id") REFERENCES "consumers" ("id", "ws_id") ON DELETE CASCADE
      );

      CREATE INDEX IF NOT EXISTS "globalunique_items_ttl_idx" ON "globalunique_items" ("ttl");
      CREATE INDEX IF NOT EXISTS "globalunique_items_tags_idx" ON "globalunique_items" USING GIN ("tags");
      DROP TRIGGER IF EXISTS "globalunique_items_sync_tags_trigger" ON "globalunique_items";
      CREATE TRIGGER "globalunique_items_sync_tags_trigger" AFTER INSERT OR UPDATE OF "tags" OR DELETE ON "globalunique_items"
        FOR EACH ROW EXECUTE PROCEDURE sync_tags();
    ]],
  },
}
