return {
  postgres = {
    up = [[
      CREATE TABLE IF NOT EXISTS "nowsid_items" (
        "id"          UUID                      PRIMARY KEY,
        "created_at"  TIMESTAMP WITH TIME ZONE  DEFAULT (CURRENT_TIMESTAMP(0) AT TIME ZONE 'UTC'),
        "consumer_id" UUID,
        "name"        TEXT,
        "count"       BIGINT,
        "tags"        TEXT[],
        "cache_key"   TEXT                      UNIQUE,
        "ttl"         TIMESTAMP WITH TIME ZONE,
        UNIQUE ("name"),
        FOREIGN KEY ("consumer_id") REFERENCES "consumers" ("id") ON DELETE CASCADE
      );

      CREATE INDEX IF NOT EXISTS "nowsid_items_ttl_idx" ON "nowsid_items" ("ttl");
      CREATE INDEX IF NOT EXISTS "nowsid_items_tags_idx" ON "nowsid_items" USING GIN ("tags");
      DROP TRIGGER IF EXISTS "nowsid_items_sync_tags_trigger" ON "nowsid_items";
      CREATE TRIGGER "nowsid_items_sync_tags_trigger" AFTER INSERT OR UPDATE OF "tags" OR DELETE ON "nowsid_items"
        FOR EACH ROW EXECUTE PROCEDURE sync_tags();
    ]],
  },
}
