return {
  postgres = {
    up = [[
      CREATE TABLE IF NOT EXISTS "tenents_e0" (
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

      CREATE INDEX IF NOT EXISTS "tenents_e0_ttl_idx" ON "tenents_e0" ("ttl");
      CREATE INDEX IF NOT EXISTS "tenents_e0_tags_idx" ON "tenents_e0" USING GIN ("tags");
      DROP TRIGGER IF EXISTS "tenents_e0_sync_tags_trigger" ON "tenents_e0";
      CREATE TRIGGER "tenents_e0_sync_tags_trigger" AFTER INSERT OR UPDATE OF "tags" OR DELETE ON "tenents_e0"
        FOR EACH ROW EXECUTE PROCEDURE sync_tags();

      CREATE TABLE IF NOT EXISTS "tenents_e1" (
        "id"          UUID                      PRIMARY KEY,
        "created_at"  TIMESTAMP WITH TIME ZONE  DEFAULT (CURRENT_TIMESTAMP(0) AT TIME ZONE 'UTC'),
        "consumer_id" UUID,
        "parent_id"   UUID,
        "name"        TEXT,
        "count"       BIGINT,
        "tags"        TEXT[],
        "cache_key"   TEXT                      UNIQUE,
        "ws_id"       UUID                      REFERENCES "workspaces" ("id"),
        "ttl"         TIMESTAMP WITH TIME ZONE,
        UNIQUE ("id", "ws_id"),
        UNIQUE ("ws_id", "name"),
        FOREIGN KEY ("consumer_id", "ws_id") REFERENCES "consumers" ("id", "ws_id") ON DELETE CASCADE,
        FOREIGN KEY ("parent_id", "ws_id") REFERENCES "tenents_e0" ("id", "ws_id") ON DELETE CASCADE
      );

      CREATE INDEX IF NOT EXISTS "tenents_e1_ttl_idx" ON "tenents_e1" ("ttl");
      CREATE INDEX IF NOT EXISTS "tenents_e1_tags_idx" ON "tenents_e1" USING GIN ("tags");
      DROP TRIGGER IF EXISTS "tenents_e1_sync_tags_trigger" ON "tenents_e1";
      CREATE TRIGGER "tenents_e1_sync_tags_trigger" AFTER INSERT OR UPDATE OF "tags" OR DELETE ON "tenents_e1"
        FOR EACH ROW EXECUTE PROCEDURE sync_tags();

      CREATE TABLE IF NOT EXISTS "tenents_e2" (
        "id"          UUID                      PRIMARY KEY,
        "created_at"  TIMESTAMP WITH TIME ZONE  DEFAULT (CURRENT_TIMESTAMP(0) AT TIME ZONE 'UTC'),
        "consumer_id" UUID,
        "parent_id"   UUID,
        "name"        TEXT,
        "count"       BIGINT,
        "tags"        TEXT[],
        "cache_key"   TEXT                      UNIQUE,
        "ws_id"       UUID                      REFERENCES "workspaces" ("id"),
        "ttl"         TIMESTAMP WITH TIME ZONE,
        UNIQUE ("id", "ws_id"),
        UNIQUE ("ws_id", "name"),
        FOREIGN KEY ("consumer_id", "ws_id") REFERENCES "consumers" ("id", "ws_id") ON DELETE CASCADE,
        FOREIGN KEY ("parent_id", "ws_id") REFERENCES "tenents_e1" ("id", "ws_id") ON DELETE CASCADE
      );

      CREATE INDEX IF NOT EXISTS "tenents_e2_ttl_idx" ON "tenents_e2" ("ttl");
      CREATE INDEX IF NOT EXISTS "tenents_e2_tags_idx" ON "tenents_e2" USING GIN ("tags");
      DROP TRIGGER IF EXISTS "tenents_e2_sync_tags_trigger" ON "tenents_e2";
      CREATE TRIGGER "tenents_e2_sync_tags_trigger" AFTER INSERT OR UPDATE OF "tags" OR DELETE ON "tenents_e2"
        FOR EACH ROW EXECUTE PROCEDURE sync_tags();

      CREATE TABLE IF NOT EXISTS "tenents_e3" (
        "id"          UUID                      PRIMARY KEY,
        "created_at"  TIMESTAMP WITH TIME ZONE  DEFAULT (CURRENT_TIMESTAMP(0) AT TIME ZONE 'UTC'),
        "consumer_id" UUID,
        "parent_id"   UUID,
        "name"        TEXT,
        "count"       BIGINT,
        "tags"        TEXT[],
        "cache_key"   TEXT                      UNIQUE,
        "ws_id"       UUID                      REFERENCES "workspaces" ("id"),
        "ttl"         TIMESTAMP WITH TIME ZONE,
        UNIQUE ("id", "ws_id"),
        UNIQUE ("ws_id", "name"),
        FOREIGN KEY ("consumer_id", "ws_id") REFERENCES "consumers" ("id", "ws_id") ON DELETE CASCADE,
        FOREIGN KEY ("parent_id", "ws_id") REFERENCES "tenents_e2" ("id", "ws_id") ON DELETE CASCADE
      );

      CREATE INDEX IF NOT EXISTS "tenents_e3_ttl_idx" ON "tenents_e3" ("ttl");
      CREATE INDEX IF NOT EXISTS "tenents_e3_tags_idx" ON "tenents_e3" USING GIN ("tags");
      DROP TRIGGER IF EXISTS "tenents_e3_sync_tags_trigger" ON "tenents_e3";
      CREATE TRIGGER "tenents_e3_sync_tags_trigger" AFTER INSERT OR UPDATE OF "tags" OR DELETE ON "tenents_e3"
        FOR EACH ROW EXECUTE PROCEDURE sync_tags();

      CREATE TABLE IF NOT EXISTS "tenents_e4" (
        "id"          UUID                      PRIMARY KEY,
        "created_at"  TIMESTAMP WITH TIME ZONE  DEFAULT (CURRENT_TIMESTAMP(0) AT TIME ZONE 'UTC'),
        "consumer_id" UUID,
        "parent_id"   UUID,
        "name"        TEXT,
        "count"       BIGINT,
        "tags"        TEXT[],
        "cache_key"   TEXT                      UNIQUE,
        "ws_id"       UUID                      REFERENCES "workspaces" ("id"),
        "ttl"         TIMESTAMP WITH TIME ZONE,
        UNIQUE ("id", "ws_id"),
        UNIQUE ("ws_id", "name"),
        FOREIGN KEY ("consumer_id", "ws_id") REFERENCES "consumers" ("id", "ws_id") ON DELETE CASCADE,
        FOREIGN KEY ("parent_id", "ws_id") REFERENCES "tenents_e3" ("id", "ws_id") ON DELETE CASCADE
      );

      CREATE INDEX IF NOT EXISTS "tenents_e4_ttl_idx" ON "tenents_e4" ("ttl");
      CREATE INDEX IF NOT EXISTS "tenents_e4_tags_idx" ON "tenents_e4" USING GIN ("tags");
      DROP TRIGGER IF EXISTS "tenents_e4_sync_tags_trigger" ON "tenents_e4";
      CREATE TRIGGER "tenents_e4_sync_tags_trigger" AFTER INSERT OR UPDATE OF "tags" OR DELETE ON "tenents_e4"
        FOR EACH ROW EXECUTE PROCEDURE sync_tags();

      CREATE TABLE IF NOT EXISTS "tenents_e5" (
        "id"          UUID                      PRIMARY KEY,
        "created_at"  TIMESTAMP WITH TIME ZONE  DEFAULT (CURRENT_TIMESTAMP(0) AT TIME ZONE 'UTC'),
        "consumer_id" UUID,
        "parent_id"   UUID,
        "name"        TEXT,
        "count"       BIGINT,
        "tags"        TEXT[],
        "cache_key"   TEXT                      UNIQUE,
        "ws_id"       UUID                      REFERENCES "workspaces" ("id"),
        "ttl"         TIMESTAMP WITH TIME ZONE,
        UNIQUE ("id", "ws_id"),
        UNIQUE ("ws_id", "name"),
        FOREIGN KEY ("consumer_id", "ws_id") REFERENCES "consumers" ("id", "ws_id") ON DELETE CASCADE,
        FOREIGN KEY ("parent_id", "ws_id") REFERENCES "tenents_e4" ("id", "ws_id") ON DELETE CASCADE
      );

      CREATE INDEX IF NOT EXISTS "tenents_e5_ttl_idx" ON "tenents_e5" ("ttl");
      CREATE INDEX IF NOT EXISTS "tenents_e5_tags_idx" ON "tenents_e5" USING GIN ("tags");
      DROP TRIGGER IF EXISTS "tenents_e5_sync_tags_trigger" ON "tenents_e5";
      CREATE TRIGGER "tenents_e5_sync_tags_trigger" AFTER INSERT OR UPDATE OF "tags" OR DELETE ON "tenents_e5"
        FOR EACH ROW EXECUTE PROCEDURE sync_tags();

      CREATE TABLE IF NOT EXISTS "tenents_e6" (
        "id"          UUID                      PRIMARY KEY,
        "created_at"  TIMESTAMP WITH TIME ZONE  DEFAULT (CURRENT_TIMESTAMP(0) AT TIME ZONE 'UTC'),
        "consumer_id" UUID,
        "parent_id"   UUID,
        "name"        TEXT,
        "count"       BIGINT,
        "tags"        TEXT[],
        "cache_key"   TEXT                      UNIQUE,
        "ws_id"       UUID                      REFERENCES "workspaces" ("id"),
        "ttl"         TIMESTAMP WITH TIME ZONE,
        UNIQUE ("id", "ws_id"),
        UNIQUE ("ws_id", "name"),
        FOREIGN KEY ("consumer_id", "ws_id") REFERENCES "consumers" ("id", "ws_id") ON DELETE CASCADE,
        FOREIGN KEY ("parent_id", "ws_id") REFERENCES "tenents_e5" ("id", "ws_id") ON DELETE CASCADE
      );

      CREATE INDEX IF NOT EXISTS "tenents_e6_ttl_idx" ON "tenents_e6" ("ttl");
      CREATE INDEX IF NOT EXISTS "tenents_e6_tags_idx" ON "tenents_e6" USING GIN ("tags");
      DROP TRIGGER IF EXISTS "tenents_e6_sync_tags_trigger" ON "tenents_e6";
      CREATE TRIGGER "tenents_e6_sync_tags_trigger" AFTER INSERT OR UPDATE OF "tags" OR DELETE ON "tenents_e6"
        FOR EACH ROW EXECUTE PROCEDURE sync_tags();

      CREATE TABLE IF NOT EXISTS "tenents_e7" (
        "id"          UUID                      PRIMARY KEY,
        "created_at"  TIMESTAMP WITH TIME ZONE  DEFAULT (CURRENT_TIMESTAMP(0) AT TIME ZONE 'UTC'),
        "consumer_id" UUID,
        "parent_id"   UUID,
        "name"        TEXT,
        "count"       BIGINT,
        "tags"        TEXT[],
        "cache_key"   TEXT                      UNIQUE,
        "ws_id"       UUID                      REFERENCES "workspaces" ("id"),
        "ttl"         TIMESTAMP WITH TIME ZONE,
        UNIQUE ("id", "ws_id"),
        UNIQUE ("ws_id", "name"),
        FOREIGN KEY ("consumer_id", "ws_id") REFERENCES "consumers" ("id", "ws_id") ON DELETE CASCADE,
        FOREIGN KEY ("parent_id", "ws_id") REFERENCES "tenents_e6" ("id", "ws_id") ON DELETE CASCADE
      );

      CREATE INDEX IF NOT EXISTS "tenents_e7_ttl_idx" ON "tenents_e7" ("ttl");
      CREATE INDEX IF NOT EXISTS "tenents_e7_tags_idx" ON "tenents_e7" USING GIN ("tags");
      DROP TRIGGER IF EXISTS "tenents_e7_sync_tags_trigger" ON "tenents_e7";
      CREATE TRIGGER "tenents_e7_sync_tags_trigger" AFTER INSERT OR UPDATE OF "tags" OR DELETE ON "tenents_e7"
        FOR EACH ROW EXECUTE PROCEDURE sync_tags();

      CREATE TABLE IF NOT EXISTS "tenents_e8" (
        "id"          UUID                      PRIMARY KEY,
        "created_at"  TIMESTAMP WITH TIME ZONE  DEFAULT (CURRENT_TIMESTAMP(0) AT TIME ZONE 'UTC'),
        "consumer_id" UUID,
        "parent_id"   UUID,
        "name"        TEXT,
        "count"       BIGINT,
        "tags"        TEXT[],
        "cache_key"   TEXT                      UNIQUE,
        "ws_id"       UUID                      REFERENCES "workspaces" ("id"),
        "ttl"         TIMESTAMP WITH TIME ZONE,
        UNIQUE ("id", "ws_id"),
        UNIQUE ("ws_id", "name"),
        FOREIGN KEY ("consumer_id", "ws_id") REFERENCES "consumers" ("id", "ws_id") ON DELETE CASCADE,
        FOREIGN KEY ("parent_id", "ws_id") REFERENCES "tenents_e7" ("id", "ws_id") ON DELETE CASCADE
      );

      CREATE INDEX IF NOT EXISTS "tenents_e8_ttl_idx" ON "tenents_e8" ("ttl");
      CREATE INDEX IF NOT EXISTS "tenents_e8_tags_idx" ON "tenents_e8" USING GIN ("tags");
      DROP TRIGGER IF EXISTS "tenents_e8_sync_tags_trigger" ON "tenents_e8";
      CREATE TRIGGER "tenents_e8_sync_tags_trigger" AFTER INSERT OR UPDATE OF "tags" OR DELETE ON "tenents_e8"
        FOR EACH ROW EXECUTE PROCEDURE sync_tags();

      CREATE TABLE IF NOT EXISTS "tenents_e9" (
        "id"          UUID                      PRIMARY KEY,
        "created_at"  TIMESTAMP WITH TIME ZONE  DEFAULT (CURRENT_TIMESTAMP(0) AT TIME ZONE 'UTC'),
        "consumer_id" UUID,
        "parent_id"   UUID,
        "name"        TEXT,
        "count"       BIGINT,
        "tags"        TEXT[],
        "cache_key"   TEXT                      UNIQUE,
        "ws_id"       UUID                      REFERENCES "workspaces" ("id"),
        "ttl"         TIMESTAMP WITH TIME ZONE,
        UNIQUE ("id", "ws_id"),
        UNIQUE ("ws_id", "name"),
        FOREIGN KEY ("consumer_id", "ws_id") REFERENCES "consumers" ("id", "ws_id") ON DELETE CASCADE,
        FOREIGN KEY ("parent_id", "ws_id") REFERENCES "tenents_e8" ("id", "ws_id") ON DELETE CASCADE
      );

      CREATE INDEX IF NOT EXISTS "tenents_e9_ttl_idx" ON "tenents_e9" ("ttl");
      CREATE INDEX IF NOT EXISTS "tenents_e9_tags_idx" ON "tenents_e9" USING GIN ("tags");
      DROP TRIGGER IF EXISTS "tenents_e9_sync_tags_trigger" ON "tenents_e9";
      CREATE TRIGGER "tenents_e9_sync_tags_trigger" AFTER INSERT OR UPDATE OF "tags" OR DELETE ON "tenents_e9"
        FOR EACH ROW EXECUTE PROCEDURE sync_tags();

    ]],
  },
}
