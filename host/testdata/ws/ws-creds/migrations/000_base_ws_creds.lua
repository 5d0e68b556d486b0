-- A table as a Kong 2.0-era plugin created it: no ws_id yet.
return {
  postgres = {
    up = [[
      CREATE TABLE IF NOT EXISTS "ws_creds" (
        "id"          UUID PRIMARY KEY,
        "consumer_id" UUID REFERENCES "consumers" ("id") ON DELETE CASCADE,
        "key"         TEXT UNIQUE,
        "cache_key"   TEXT UNIQUE
      );
    ]],
  },
  cassandra = {
    up = [[ CREATE TABLE IF NOT EXISTS ws_creds (id uuid PRIMARY KEY); ]],
  },
}
