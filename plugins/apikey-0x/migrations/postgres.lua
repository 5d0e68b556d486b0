-- apikey-0x's migrations, Kong 0.x's form: an ordered list of
-- { name, up, down } for PostgreSQL.
return {
  {
    name = "2015-07-31-172400_init_apikeys",
    up = [[
      CREATE TABLE IF NOT EXISTS apikeys(
        id uuid,
        consumer_id uuid REFERENCES consumers (id) ON DELETE CASCADE,
        apikey text UNIQUE,
        created_at timestamp without time zone default (CURRENT_TIMESTAMP(0) at time zone 'utc'),
        PRIMARY KEY (id)
      );

      DO $$
      BEGIN
        IF (SELECT to_regclass('apikeys_consumer_idx')) IS NULL THEN
          CREATE INDEX apikeys_consumer_idx ON apikeys(consumer_id);
        END IF;
      END$$;
    ]],
    down = [[
      DROP TABLE apikeys;
    ]],
  },
}
