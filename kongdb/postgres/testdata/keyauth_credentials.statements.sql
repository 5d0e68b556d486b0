-- delete
DELETE FROM "keyauth_credentials" WHERE ("id") = ($1) AND ("ttl" IS NULL OR "ttl" >= CURRENT_TIMESTAMP) AND ("ws_id" = $2);

-- delete_by_key
DELETE FROM "keyauth_credentials" WHERE "key" = $1 AND ("ttl" IS NULL OR "ttl" >= CURRENT_TIMESTAMP) AND ("ws_id" = $2);

-- insert
INSERT INTO "keyauth_credentials" ("id", "created_at", "consumer_id", "key", "tags", "ws_id", "ttl") VALUES ($1, TO_TIMESTAMP($2::float8), $3, $4, $5, $6, TO_TIMESTAMP($7::float8)) RETURNING "id", EXTRACT(EPOCH FROM "created_at" AT TIME ZONE 'UTC')::float8 AS "created_at", "consumer_id", "key", "tags", "ws_id", FLOOR(EXTRACT(EPOCH FROM ("ttl" AT TIME ZONE 'UTC' - CURRENT_TIMESTAMP AT TIME ZONE 'UTC')))::float8 AS "ttl";

-- page_by_tags_and_first
SELECT "id", EXTRACT(EPOCH FROM "created_at" AT TIME ZONE 'UTC')::float8 AS "created_at", "consumer_id", "key", "tags", "ws_id", FLOOR(EXTRACT(EPOCH FROM ("ttl" AT TIME ZONE 'UTC' - CURRENT_TIMESTAMP AT TIME ZONE 'UTC')))::float8 AS "ttl" FROM "keyauth_credentials" WHERE "tags" @> $1::TEXT[] AND ("ttl" IS NULL OR "ttl" >= CURRENT_TIMESTAMP) AND ("ws_id" = $2) ORDER BY "id" LIMIT $3;

-- page_first
SELECT "id", EXTRACT(EPOCH FROM "created_at" AT TIME ZONE 'UTC')::float8 AS "created_at", "consumer_id", "key", "tags", "ws_id", FLOOR(EXTRACT(EPOCH FROM ("ttl" AT TIME ZONE 'UTC' - CURRENT_TIMESTAMP AT TIME ZONE 'UTC')))::float8 AS "ttl" FROM "keyauth_credentials" WHERE ("ttl" IS NULL OR "ttl" >= CURRENT_TIMESTAMP) AND ("ws_id" = $1) ORDER BY "id" LIMIT $2;

-- page_for_consumer_first
SELECT "id", EXTRACT(EPOCH FROM "created_at" AT TIME ZONE 'UTC')::float8 AS "created_at", "consumer_id", "key", "tags", "ws_id", FLOOR(EXTRACT(EPOCH FROM ("ttl" AT TIME ZONE 'UTC' - CURRENT_TIMESTAMP AT TIME ZONE 'UTC')))::float8 AS "ttl" FROM "keyauth_credentials" WHERE ("consumer_id") = ($1) AND ("ttl" IS NULL OR "ttl" >= CURRENT_TIMESTAMP) AND ("ws_id" = $2) ORDER BY "id" LIMIT $3;

-- page_next
SELECT "id", EXTRACT(EPOCH FROM "created_at" AT TIME ZONE 'UTC')::float8 AS "created_at", "consumer_id", "key", "tags", "ws_id", FLOOR(EXTRACT(EPOCH FROM ("ttl" AT TIME ZONE 'UTC' - CURRENT_TIMESTAMP AT TIME ZONE 'UTC')))::float8 AS "ttl" FROM "keyauth_credentials" WHERE ("id") > ($1) AND ("ttl" IS NULL OR "ttl" >= CURRENT_TIMESTAMP) AND ("ws_id" = $2) ORDER BY "id" LIMIT $3;

-- select
SELECT "id", EXTRACT(EPOCH FROM "created_at" AT TIME ZONE 'UTC')::float8 AS "created_at", "consumer_id", "key", "tags", "ws_id", FLOOR(EXTRACT(EPOCH FROM ("ttl" AT TIME ZONE 'UTC' - CURRENT_TIMESTAMP AT TIME ZONE 'UTC')))::float8 AS "ttl" FROM "keyauth_credentials" WHERE ("id") = ($1) AND ("ttl" IS NULL OR "ttl" >= CURRENT_TIMESTAMP) AND ("ws_id" = $2) LIMIT 1;

-- select_by_key
SELECT "id", EXTRACT(EPOCH FROM "created_at" AT TIME ZONE 'UTC')::float8 AS "created_at", "consumer_id", "key", "tags", "ws_id", FLOOR(EXTRACT(EPOCH FROM ("ttl" AT TIME ZONE 'UTC' - CURRENT_TIMESTAMP AT TIME ZONE 'UTC')))::float8 AS "ttl" FROM "keyauth_credentials" WHERE "key" = $1 AND ("ttl" IS NULL OR "ttl" >= CURRENT_TIMESTAMP) AND ("ws_id" = $2) LIMIT 1;

-- select_by_key_skip_ttl_global
SELECT "id", EXTRACT(EPOCH FROM "created_at" AT TIME ZONE 'UTC')::float8 AS "created_at", "consumer_id", "key", "tags", "ws_id", FLOOR(EXTRACT(EPOCH FROM ("ttl" AT TIME ZONE 'UTC' - CURRENT_TIMESTAMP AT TIME ZONE 'UTC')))::float8 AS "ttl" FROM "keyauth_credentials" WHERE "key" = $1 LIMIT 1;

-- update#1111t
UPDATE "keyauth_credentials" SET "created_at" = TO_TIMESTAMP($1::float8), "consumer_id" = $2, "key" = $3, "tags" = $4, "ttl" = TO_TIMESTAMP($5::float8) WHERE ("id") = ($6) AND ("ttl" IS NULL OR "ttl" >= CURRENT_TIMESTAMP) AND ("ws_id" = $7) RETURNING "id", EXTRACT(EPOCH FROM "created_at" AT TIME ZONE 'UTC')::float8 AS "created_at", "consumer_id", "key", "tags", "ws_id", FLOOR(EXTRACT(EPOCH FROM ("ttl" AT TIME ZONE 'UTC' - CURRENT_TIMESTAMP AT TIME ZONE 'UTC')))::float8 AS "ttl";

-- upsert
INSERT INTO "keyauth_credentials" ("id", "created_at", "consumer_id", "key", "tags", "ws_id", "ttl") VALUES ($1, TO_TIMESTAMP($2::float8), $3, $4, $5, $6, TO_TIMESTAMP($7::float8)) ON CONFLICT ("id") DO UPDATE SET "created_at" = EXCLUDED."created_at", "consumer_id" = EXCLUDED."consumer_id", "key" = EXCLUDED."key", "tags" = EXCLUDED."tags", "ws_id" = EXCLUDED."ws_id", "ttl" = EXCLUDED."ttl" RETURNING "id", EXTRACT(EPOCH FROM "created_at" AT TIME ZONE 'UTC')::float8 AS "created_at", "consumer_id", "key", "tags", "ws_id", FLOOR(EXTRACT(EPOCH FROM ("ttl" AT TIME ZONE 'UTC' - CURRENT_TIMESTAMP AT TIME ZONE 'UTC')))::float8 AS "ttl";

-- upsert_by_key
INSERT INTO "keyauth_credentials" ("id", "created_at", "consumer_id", "key", "tags", "ws_id", "ttl") VALUES ($1, TO_TIMESTAMP($2::float8), $3, $4, $5, $6, TO_TIMESTAMP($7::float8)) ON CONFLICT ("ws_id", "key") DO UPDATE SET "created_at" = EXCLUDED."created_at", "consumer_id" = EXCLUDED."consumer_id", "key" = EXCLUDED."key", "tags" = EXCLUDED."tags", "ws_id" = EXCLUDED."ws_id", "ttl" = EXCLUDED."ttl" RETURNING "id", EXTRACT(EPOCH FROM "created_at" AT TIME ZONE 'UTC')::float8 AS "created_at", "consumer_id", "key", "tags", "ws_id", FLOOR(EXTRACT(EPOCH FROM ("ttl" AT TIME ZONE 'UTC' - CURRENT_TIMESTAMP AT TIME ZONE 'UTC')))::float8 AS "ttl";

