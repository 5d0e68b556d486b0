return {
  postgres = {
    up = [[
      CREATE TABLE IF NOT EXISTS "nottlindex_items" (
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
        UNIQUE ("ws_id", "name"),
        FOREIGN KEY ("consumer_id", "ws_id") REFERENCES "consumers" ("id", "ws_id") ON DELETE CASCADE
      );

      CREATE INDEX IF NOT EXISTS "nottlindex_items_tags_idx" ON "nottlindex_items" USING GIN ("tags");
      DROP TRIGGER IF EXISTS "nottlindex_items_sync_tags_trigger" ON "nottlindex_items";
      CREATE TRIGGER "nottlindex_items_sync_tags_trigger" AFTER INSERT OR UPDATE OF "tags" OR DELETE ON "nottlindex_items"
        FOR EACH ROW EXECUTE PROCEDURE sync_tags();
    ]],
  },
}
