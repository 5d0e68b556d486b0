CREATE TABLE IF NOT EXISTS "keyauth_credentials" (
  "id" UUID,
  "created_at" TIMESTAMP WITH TIME ZONE,
  "consumer_id" UUID,
  "key" TEXT,
  "tags" TEXT[],
  "ws_id" UUID REFERENCES "workspaces" ("id"),
  "ttl" TIMESTAMP WITH TIME ZONE,
  PRIMARY KEY ("id"),
  CONSTRAINT "keyauth_credentials_consumer_id_fkey" FOREIGN KEY ("consumer_id", "ws_id") REFERENCES "consumers" ("id", "ws_id") ON DELETE CASCADE,
  CONSTRAINT "keyauth_credentials_ws_id_key_unique" UNIQUE ("ws_id", "key"),
  CONSTRAINT "keyauth_credentials_id_ws_id_unique" UNIQUE ("id", "ws_id")
);
CREATE INDEX IF NOT EXISTS "keyauth_credentials_ttl_idx" ON "keyauth_credentials" ("ttl");
CREATE INDEX IF NOT EXISTS "keyauth_credentials_tags_idx" ON "keyauth_credentials" USING GIN ("tags");
