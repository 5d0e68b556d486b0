return {
  postgres = {
    up = [[
      CREATE TABLE IF NOT EXISTS "tidy_items" (
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

      CREATE INDEX IF NOT EXISTS "tidy_items_tags_idx" ON "tidy_items" USING GIN ("tags");
    ]],
    up_f = function(connector)
      local _, err = connector:query([[
        DROP TRIGGER IF EXISTS "tidy_items_sync_tags_trigger" ON "tidy_items";
        CREATE TRIGGER "tidy_items_sync_tags_trigger" AFTER INSERT OR UPDATE OF "tags" OR DELETE ON "tidy_items"
          FOR EACH ROW EXECUTE PROCEDURE sync_tags();
      ]])
      if err then
        return nil, err
      end
    end,
    teardown = function(connector)
      local _, err = connector:query([[
        CREATE INDEX IF NOT EXISTS "tidy_items_ttl_idx" ON "tidy_items" ("ttl");
      ]])
      if err then
        return nil, err
      end
    end,
  },
}
