-- apikey-2x's first migration in the 1.x/2.x form, with a Cassandra section
-- (Kong removed Cassandra in 3.4; luahost skips it).
return {
  postgres = {
    up = [[
      CREATE TABLE IF NOT EXISTS "apikeys2" (
        "id"           UUID                         PRIMARY KEY,
        "created_at"   TIMESTAMP WITH TIME ZONE     DEFAULT (CURRENT_TIMESTAMP(0) AT TIME ZONE 'UTC'),
        "consumer_id"  UUID                         REFERENCES "consumers" ("id") ON DELETE CASCADE,
        "key"          TEXT                         UNIQUE
      );

      DO $$
      BEGIN
        CREATE INDEX IF NOT EXISTS "apikeys2_consumer_id_idx" ON "apikeys2" ("consumer_id");
      EXCEPTION WHEN UNDEFINED_COLUMN THEN
        -- Do nothing, accept existing state
      END$$;
    ]],
  },

  cassandra = {
    up = [[
      CREATE TABLE IF NOT EXISTS apikeys2(
        id          uuid PRIMARY KEY,
        created_at  timestamp,
        consumer_id uuid,
        key         text
      );
      CREATE INDEX IF NOT EXISTS ON apikeys2(key);
      CREATE INDEX IF NOT EXISTS ON apikeys2(consumer_id);
    ]],
  },
}
