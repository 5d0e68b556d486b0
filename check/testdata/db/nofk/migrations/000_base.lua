return {
  postgres = {
    up = [[
      CREATE TABLE IF NOT EXISTS "nofk_items" (
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
        UNIQUE ("ws_id", "name")
      );

      CREATE INDEX IF NOT EXISTS "nofk_items_ttl_idx" ON "nofk_items" ("ttl");
      CREATE INDEX IF NOT EXISTS "nofk_items_tags_idx" ON "nofk_items" USING GIN ("tags");
      DROP TRIGGER IF EXISTS "nofk_items_sync_tags_trigger" ON "nofk_items";
      CREATE TRIGGER "nofk_items_sync_tags_trigger" AFTER INSERT OR UPDATE OF "tags" OR DELETE ON "nofk_items"
        FOR EACH ROW EXECUTE PROCEDURE sync_tags();
    ]],
  },
}
