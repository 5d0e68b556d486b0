return {
  postgres = {
    up = [[
      CREATE TABLE IF NOT EXISTS "admin_notes" (
        "id"           UUID                         PRIMARY KEY,
        "created_at"   TIMESTAMP WITH TIME ZONE     DEFAULT (CURRENT_TIMESTAMP(0) AT TIME ZONE 'UTC'),
        "consumer_id"  UUID,
        "title"        TEXT,
        "body"         TEXT,
        "tags"         TEXT[],
        "ws_id"        UUID                         REFERENCES "workspaces" ("id"),
        UNIQUE ("id", "ws_id"),
        UNIQUE ("ws_id", "title"),
        FOREIGN KEY ("consumer_id", "ws_id") REFERENCES "consumers" ("id", "ws_id") ON DELETE CASCADE
      );
    ]],
  },
}
