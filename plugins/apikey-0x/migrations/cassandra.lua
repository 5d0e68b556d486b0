-- apikey-0x's migrations for Cassandra (Kong 0.x's form); luahost has no
-- Cassandra and records them as skipped.
return {
  {
    name = "2015-07-31-172400_init_apikeys",
    up = [[
      CREATE TABLE IF NOT EXISTS apikeys(
        id uuid,
        consumer_id uuid,
        apikey text,
        created_at timestamp,
        PRIMARY KEY (id)
      );

      CREATE INDEX IF NOT EXISTS ON apikeys(apikey);
      CREATE INDEX IF NOT EXISTS apikeys_consumer_id ON apikeys(consumer_id);
    ]],
    down = [[
      DROP TABLE apikeys;
    ]],
  },
}
