return {
  postgres = {
    up = [[
      CREATE TABLE IF NOT EXISTS "token_credentials" (
        "id"           UUID                         PRIMARY KEY,
        "created_at"   TIMESTAMP WITH TIME ZONE     DEFAULT (CURRENT_TIMESTAMP(0) AT TIME ZONE 'UTC'),
        "consumer_id"  UUID,
        "key"          TEXT,
        "tags"         TEXT[],
        "ttl"          TIMESTAMP WITH TIME ZONE,
        "ws_id"        UUID                         REFERENCES "workspaces" ("id"),
        UNIQUE ("id", "ws_id"),
        UNIQUE ("ws_id", "key"),
        FOREIGN KEY ("consumer_id", "ws_id") REFERENCES "consumers" ("id", "ws_id") ON DELETE CASCADE
      );

      DO $$
      BEGIN
        CREATE INDEX IF NOT EXISTS "token_credentials_consumer_id_idx" ON "token_credentials" ("consumer_id");
      EXCEPTION WHEN UNDEFINED_COLUMN THEN
        -- Do nothing, accept existing state
      END$$;

      DO $$
      BEGIN
        CREATE INDEX IF NOT EXISTS "token_credentials_ttl_idx" ON "token_credentials" ("ttl");
      EXCEPTION WHEN UNDEFINED_TABLE THEN
        -- Do nothing, accept existing state
      END$$;

      -- tags indexed and kept in core's "tags" table (/tags, tag filters)
      CREATE INDEX IF NOT EXISTS "token_credentials_tags_idx" ON "token_credentials" USING GIN ("tags");
      DROP TRIGGER IF EXISTS "token_credentials_sync_tags_trigger" ON "token_credentials";
      DO $$
      BEGIN
        CREATE TRIGGER "token_credentials_sync_tags_trigger"
        AFTER INSERT OR UPDATE OF "tags" OR DELETE ON "token_credentials"
        FOR EACH ROW
        EXECUTE PROCEDURE sync_tags();
      EXCEPTION WHEN UNDEFINED_COLUMN OR UNDEFINED_TABLE THEN
        -- Do nothing, accept existing state
      END$$;
    ]],
  },
}
