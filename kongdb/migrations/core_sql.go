package migrations

import (
	"fmt"
	"strings"
)

// Helpers that write the idempotent SQL idioms Kong's core migrations use
// (§5.7): every step can run twice.

func addColumn(table, col, typ string) string {
	return fmt.Sprintf(`DO $$
BEGIN
  ALTER TABLE IF EXISTS ONLY %q ADD %q %s;
EXCEPTION WHEN duplicate_column THEN
END;
$$;
`, table, col, typ)
}

func index(name, table, expr string) string {
	return fmt.Sprintf(`DO $$
BEGIN
  CREATE INDEX IF NOT EXISTS %q ON %q %s;
EXCEPTION WHEN undefined_column OR undefined_table THEN
END$$;
`, name, table, expr)
}

func tagsSupport(table string) string {
	return index(table+"_tags_idx", table, `USING GIN ("tags")`) + fmt.Sprintf(`DROP TRIGGER IF EXISTS %q ON %q;
DO $$
BEGIN
  CREATE TRIGGER %q AFTER INSERT OR UPDATE OF "tags" OR DELETE ON %q
  FOR EACH ROW EXECUTE PROCEDURE sync_tags();
EXCEPTION WHEN undefined_column OR undefined_table THEN
END$$;
`, table+"_sync_tags_trigger", table, table+"_sync_tags_trigger", table)
}

func ttlTrigger(table, col string) string {
	return fmt.Sprintf(`DROP TRIGGER IF EXISTS %q ON %q;
DO $$
BEGIN
  CREATE TRIGGER %q AFTER INSERT ON %q
  FOR EACH STATEMENT EXECUTE PROCEDURE batch_delete_expired_rows(%q);
EXCEPTION WHEN undefined_column OR undefined_table THEN
END$$;
`, table+"_ttl_trigger", table, table+"_ttl_trigger", table, col)
}

func unique(table, name, cols string) string {
	return fmt.Sprintf(`DO $$
BEGIN
  ALTER TABLE IF EXISTS ONLY %q ADD CONSTRAINT %q UNIQUE (%s);
EXCEPTION WHEN duplicate_table OR duplicate_object THEN
END$$;
`, table, name, cols)
}

func join(parts ...string) string { return strings.Join(parts, "\n") }

const tsNow0 = `TIMESTAMP WITH TIME ZONE DEFAULT (CURRENT_TIMESTAMP(0) AT TIME ZONE 'UTC')`
const tsNow3 = `TIMESTAMP WITH TIME ZONE DEFAULT (CURRENT_TIMESTAMP(3) AT TIME ZONE 'UTC')`

// sqlBase creates, in their current (Kong 3.10) shape, the tables that
// Kong's 000_base introduced, plus workspaces (009) so that ws_id can
// reference it from the start.
var sqlBase = join(`
CREATE TABLE IF NOT EXISTS "workspaces" (
  "id"          UUID PRIMARY KEY,
  "name"        TEXT UNIQUE,
  "comment"     TEXT,
  "created_at"  `+tsNow0+`,
  "meta"        JSONB,
  "config"      JSONB,
  "updated_at"  `+tsNow0+`
);
INSERT INTO "workspaces" ("id", "name")
  SELECT md5(random()::text || clock_timestamp()::text)::uuid, 'default'
  WHERE NOT EXISTS (SELECT 1 FROM "workspaces" WHERE "name" = 'default');

CREATE TABLE IF NOT EXISTS "cluster_events" (
  "id"         UUID PRIMARY KEY,
  "node_id"    UUID NOT NULL,
  "at"         TIMESTAMP WITH TIME ZONE NOT NULL,
  "nbf"        TIMESTAMP WITH TIME ZONE,
  "expire_at"  TIMESTAMP WITH TIME ZONE NOT NULL,
  "channel"    TEXT,
  "data"       TEXT
);
`, index("idx_cluster_events_at", "cluster_events", `("at")`),
	index("idx_cluster_events_channel", "cluster_events", `("channel")`),
	index("idx_cluster_events_expire_at", "cluster_events", `("expire_at")`), `
CREATE TABLE IF NOT EXISTS "certificates" (
  "id"          UUID PRIMARY KEY,
  "created_at"  `+tsNow0+`,
  "cert"        TEXT,
  "key"         TEXT,
  "tags"        TEXT[],
  "ws_id"       UUID REFERENCES "workspaces" ("id"),
  "cert_alt"    TEXT,
  "key_alt"     TEXT,
  "updated_at"  `+tsNow0+`,
  CONSTRAINT "certificates_id_ws_id_unique" UNIQUE ("id", "ws_id")
);

CREATE TABLE IF NOT EXISTS "services" (
  "id"                     UUID PRIMARY KEY,
  "created_at"             TIMESTAMP WITH TIME ZONE,
  "updated_at"             TIMESTAMP WITH TIME ZONE,
  "name"                   TEXT,
  "retries"                BIGINT,
  "protocol"               TEXT,
  "host"                   TEXT,
  "port"                   BIGINT,
  "path"                   TEXT,
  "connect_timeout"        BIGINT,
  "write_timeout"          BIGINT,
  "read_timeout"           BIGINT,
  "tags"                   TEXT[],
  "client_certificate_id"  UUID,
  "tls_verify"             BOOLEAN,
  "tls_verify_depth"       SMALLINT,
  "ca_certificates"        UUID[],
  "enabled"                BOOLEAN DEFAULT true,
  "ws_id"                  UUID REFERENCES "workspaces" ("id"),
  CONSTRAINT "services_id_ws_id_unique" UNIQUE ("id", "ws_id"),
  CONSTRAINT "services_ws_id_name_unique" UNIQUE ("ws_id", "name"),
  CONSTRAINT "services_client_certificate_id_fkey" FOREIGN KEY ("client_certificate_id", "ws_id") REFERENCES "certificates" ("id", "ws_id")
);

CREATE TABLE IF NOT EXISTS "routes" (
  "id"                          UUID PRIMARY KEY,
  "created_at"                  TIMESTAMP WITH TIME ZONE,
  "updated_at"                  TIMESTAMP WITH TIME ZONE,
  "name"                        TEXT,
  "service_id"                  UUID,
  "protocols"                   TEXT[],
  "methods"                     TEXT[],
  "hosts"                       TEXT[],
  "paths"                       TEXT[],
  "snis"                        TEXT[],
  "sources"                     JSONB[],
  "destinations"                JSONB[],
  "regex_priority"              BIGINT,
  "strip_path"                  BOOLEAN,
  "preserve_host"               BOOLEAN,
  "tags"                        TEXT[],
  "https_redirect_status_code"  INTEGER,
  "headers"                     JSONB,
  "path_handling"               TEXT DEFAULT 'v0',
  "request_buffering"           BOOLEAN,
  "response_buffering"          BOOLEAN,
  "ws_id"                       UUID REFERENCES "workspaces" ("id"),
  "expression"                  TEXT,
  "priority"                    BIGINT,
  CONSTRAINT "routes_id_ws_id_unique" UNIQUE ("id", "ws_id"),
  CONSTRAINT "routes_ws_id_name_unique" UNIQUE ("ws_id", "name"),
  CONSTRAINT "routes_service_id_fkey" FOREIGN KEY ("service_id", "ws_id") REFERENCES "services" ("id", "ws_id")
);
`, index("routes_service_id_idx", "routes", `("service_id")`), `
CREATE TABLE IF NOT EXISTS "snis" (
  "id"              UUID PRIMARY KEY,
  "created_at"      `+tsNow0+`,
  "name"            TEXT NOT NULL UNIQUE,
  "certificate_id"  UUID,
  "tags"            TEXT[],
  "ws_id"           UUID REFERENCES "workspaces" ("id"),
  "updated_at"      `+tsNow0+`,
  CONSTRAINT "snis_id_ws_id_unique" UNIQUE ("id", "ws_id"),
  CONSTRAINT "snis_certificate_id_fkey" FOREIGN KEY ("certificate_id", "ws_id") REFERENCES "certificates" ("id", "ws_id")
);
`, index("snis_certificate_id_idx", "snis", `("certificate_id")`), `
CREATE TABLE IF NOT EXISTS "consumers" (
  "id"          UUID PRIMARY KEY,
  "created_at"  `+tsNow0+`,
  "username"    TEXT,
  "custom_id"   TEXT,
  "tags"        TEXT[],
  "ws_id"       UUID REFERENCES "workspaces" ("id"),
  "updated_at"  `+tsNow0+`,
  CONSTRAINT "consumers_id_ws_id_unique" UNIQUE ("id", "ws_id"),
  CONSTRAINT "consumers_ws_id_username_unique" UNIQUE ("ws_id", "username"),
  CONSTRAINT "consumers_ws_id_custom_id_unique" UNIQUE ("ws_id", "custom_id")
);
`, index("consumers_username_idx", "consumers", `(LOWER("username"))`), `
CREATE TABLE IF NOT EXISTS "plugins" (
  "id"             UUID PRIMARY KEY,
  "created_at"     `+tsNow0+`,
  "name"           TEXT NOT NULL,
  "consumer_id"    UUID,
  "service_id"     UUID,
  "route_id"       UUID,
  "config"         JSONB NOT NULL,
  "enabled"        BOOLEAN NOT NULL,
  "cache_key"      TEXT UNIQUE,
  "protocols"      TEXT[],
  "tags"           TEXT[],
  "ws_id"          UUID REFERENCES "workspaces" ("id"),
  "instance_name"  TEXT,
  "updated_at"     `+tsNow0+`,
  CONSTRAINT "plugins_id_ws_id_unique" UNIQUE ("id", "ws_id"),
  CONSTRAINT "plugins_ws_id_instance_name_unique" UNIQUE ("ws_id", "instance_name"),
  CONSTRAINT "plugins_consumer_id_fkey" FOREIGN KEY ("consumer_id", "ws_id") REFERENCES "consumers" ("id", "ws_id") ON DELETE CASCADE,
  CONSTRAINT "plugins_service_id_fkey" FOREIGN KEY ("service_id", "ws_id") REFERENCES "services" ("id", "ws_id") ON DELETE CASCADE,
  CONSTRAINT "plugins_route_id_fkey" FOREIGN KEY ("route_id", "ws_id") REFERENCES "routes" ("id", "ws_id") ON DELETE CASCADE
);
`, index("plugins_name_idx", "plugins", `("name")`),
	index("plugins_consumer_id_idx", "plugins", `("consumer_id")`),
	index("plugins_service_id_idx", "plugins", `("service_id")`),
	index("plugins_route_id_idx", "plugins", `("route_id")`), `
CREATE TABLE IF NOT EXISTS "upstreams" (
  "id"                         UUID PRIMARY KEY,
  "created_at"                 `+tsNow3+`,
  "name"                       TEXT,
  "hash_on"                    TEXT,
  "hash_fallback"              TEXT,
  "hash_on_header"             TEXT,
  "hash_fallback_header"       TEXT,
  "hash_on_cookie"             TEXT,
  "hash_on_cookie_path"        TEXT,
  "slots"                      INTEGER NOT NULL,
  "healthchecks"               JSONB,
  "tags"                       TEXT[],
  "algorithm"                  TEXT,
  "host_header"                TEXT,
  "client_certificate_id"      UUID,
  "ws_id"                      UUID REFERENCES "workspaces" ("id"),
  "hash_on_query_arg"          TEXT,
  "hash_fallback_query_arg"    TEXT,
  "hash_on_uri_capture"        TEXT,
  "hash_fallback_uri_capture"  TEXT,
  "use_srv_name"               BOOLEAN DEFAULT false,
  "updated_at"                 `+tsNow0+`,
  CONSTRAINT "upstreams_id_ws_id_unique" UNIQUE ("id", "ws_id"),
  CONSTRAINT "upstreams_ws_id_name_unique" UNIQUE ("ws_id", "name"),
  CONSTRAINT "upstreams_client_certificate_id_fkey" FOREIGN KEY ("client_certificate_id", "ws_id") REFERENCES "certificates" ("id", "ws_id")
);

CREATE TABLE IF NOT EXISTS "targets" (
  "id"           UUID PRIMARY KEY,
  "created_at"   `+tsNow3+`,
  "upstream_id"  UUID,
  "target"       TEXT NOT NULL,
  "weight"       INTEGER NOT NULL,
  "tags"         TEXT[],
  "ws_id"        UUID REFERENCES "workspaces" ("id"),
  "cache_key"    TEXT UNIQUE,
  "updated_at"   `+tsNow3+`,
  CONSTRAINT "targets_id_ws_id_unique" UNIQUE ("id", "ws_id"),
  CONSTRAINT "targets_upstream_id_fkey" FOREIGN KEY ("upstream_id", "ws_id") REFERENCES "upstreams" ("id", "ws_id") ON DELETE CASCADE
);
`, index("targets_target_idx", "targets", `("target")`),
	index("targets_upstream_id_idx", "targets", `("upstream_id")`))

// sqlTags is 003: the tags table and sync_tags() on every tagged table.
var sqlTags = join(`
CREATE TABLE IF NOT EXISTS "tags" (
  "entity_id"    UUID PRIMARY KEY,
  "entity_name"  TEXT,
  "tags"         TEXT[]
);
`, index("tags_entity_name_idx", "tags", `("entity_name")`),
	index("tags_tags_idx", "tags", `USING GIN ("tags")`), `
CREATE OR REPLACE FUNCTION sync_tags() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  IF (TG_OP = 'TRUNCATE') THEN
    DELETE FROM "tags" WHERE "entity_name" = TG_TABLE_NAME;
    RETURN NULL;
  ELSIF (TG_OP = 'DELETE') THEN
    DELETE FROM "tags" WHERE "entity_id" = OLD.id;
    RETURN OLD;
  ELSE
    -- INSERT, or UPDATE OF tags
    INSERT INTO "tags" ("entity_id", "entity_name", "tags")
         VALUES (NEW.id, TG_TABLE_NAME, NEW.tags)
    ON CONFLICT ("entity_id") DO UPDATE SET "tags" = EXCLUDED."tags";
    RETURN NEW;
  END IF;
END;
$$;
`, tagsSupport("services"), tagsSupport("routes"), tagsSupport("certificates"), tagsSupport("snis"),
	tagsSupport("consumers"), tagsSupport("plugins"), tagsSupport("upstreams"), tagsSupport("targets"))

var sqlCACertificates = join(`
CREATE TABLE IF NOT EXISTS "ca_certificates" (
  "id"           UUID PRIMARY KEY,
  "created_at"   `+tsNow0+`,
  "cert"         TEXT NOT NULL,
  "tags"         TEXT[],
  "cert_digest"  TEXT UNIQUE,
  "updated_at"   `+tsNow0+`
);
`, tagsSupport("ca_certificates"))

var sqlClusteringDataPlanes = `
CREATE TABLE IF NOT EXISTS "clustering_data_planes" (
  "id"                UUID PRIMARY KEY,
  "hostname"          TEXT NOT NULL,
  "ip"                TEXT NOT NULL,
  "last_seen"         ` + tsNow0 + `,
  "config_hash"       TEXT NOT NULL,
  "ttl"               TIMESTAMP WITH TIME ZONE,
  "version"           TEXT,
  "sync_status"       TEXT NOT NULL DEFAULT 'unknown',
  "updated_at"        ` + tsNow0 + `,
  "labels"            JSONB,
  "cert_details"      JSONB,
  "rpc_capabilities"  TEXT[]
);
`

var sqlParameters = `
CREATE TABLE IF NOT EXISTS "parameters" (
  "key"         TEXT PRIMARY KEY,
  "value"       TEXT NOT NULL,
  "created_at"  TIMESTAMP WITH TIME ZONE
);
`

var sqlVaults = join(`
CREATE TABLE IF NOT EXISTS "sm_vaults" (
  "id"           UUID PRIMARY KEY,
  "ws_id"        UUID REFERENCES "workspaces" ("id"),
  "prefix"       TEXT UNIQUE,
  "name"         TEXT NOT NULL,
  "description"  TEXT,
  "config"       JSONB NOT NULL,
  "created_at"   `+tsNow0+`,
  "updated_at"   TIMESTAMP WITH TIME ZONE,
  "tags"         TEXT[],
  CONSTRAINT "sm_vaults_id_ws_id_unique" UNIQUE ("id", "ws_id"),
  CONSTRAINT "sm_vaults_prefix_ws_id_unique" UNIQUE ("prefix", "ws_id")
);
`, tagsSupport("sm_vaults"))

var sqlKeys = join(`
CREATE TABLE IF NOT EXISTS "key_sets" (
  "id"          UUID PRIMARY KEY,
  "name"        TEXT UNIQUE,
  "tags"        TEXT[],
  "ws_id"       UUID REFERENCES "workspaces" ("id"),
  "created_at"  TIMESTAMP WITH TIME ZONE,
  "updated_at"  TIMESTAMP WITH TIME ZONE
);
`, tagsSupport("key_sets"), `
CREATE TABLE IF NOT EXISTS "keys" (
  "id"          UUID PRIMARY KEY,
  "set_id"      UUID REFERENCES "key_sets" ("id") ON DELETE CASCADE,
  "name"        TEXT UNIQUE,
  "cache_key"   TEXT UNIQUE,
  "ws_id"       UUID REFERENCES "workspaces" ("id"),
  "kid"         TEXT,
  "jwk"         TEXT,
  "pem"         JSONB,
  "tags"        TEXT[],
  "created_at"  TIMESTAMP WITH TIME ZONE,
  "updated_at"  TIMESTAMP WITH TIME ZONE,
  UNIQUE ("kid", "set_id")
);
`, index("keys_fkey_key_sets", "keys", `("set_id")`), tagsSupport("keys"))

// sqlBatchDelete is 019's batch_delete_expired_rows(column): an AFTER
// INSERT statement trigger that removes up to two expired rows.
var sqlBatchDelete = join(`
CREATE OR REPLACE FUNCTION batch_delete_expired_rows() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  EXECUTE FORMAT('WITH rows AS (SELECT ctid FROM %I WHERE %I < CURRENT_TIMESTAMP AT TIME ZONE ''UTC'' ORDER BY %I LIMIT 2 FOR UPDATE SKIP LOCKED) DELETE FROM %I WHERE ctid IN (TABLE rows)',
                 TG_TABLE_NAME, TG_ARGV[0], TG_ARGV[0], TG_TABLE_NAME);
  RETURN NULL;
END;
$$;
DROP TRIGGER IF EXISTS "delete_expired_cluster_events_trigger" ON "cluster_events";
DROP FUNCTION IF EXISTS "delete_expired_cluster_events" ();
`, ttlTrigger("cluster_events", "expire_at"), ttlTrigger("clustering_data_planes", "ttl"))

var sqlFilterChains = join(`
CREATE TABLE IF NOT EXISTS "filter_chains" (
  "id"          UUID PRIMARY KEY,
  "name"        TEXT UNIQUE,
  "enabled"     BOOLEAN DEFAULT TRUE,
  "route_id"    UUID REFERENCES "routes" ("id") ON DELETE CASCADE,
  "service_id"  UUID REFERENCES "services" ("id") ON DELETE CASCADE,
  "ws_id"       UUID REFERENCES "workspaces" ("id") ON DELETE CASCADE,
  "cache_key"   TEXT UNIQUE,
  "filters"     JSONB[],
  "tags"        TEXT[],
  "created_at"  TIMESTAMP WITH TIME ZONE,
  "updated_at"  TIMESTAMP WITH TIME ZONE
);
`, tagsSupport("filter_chains"), `DROP TABLE IF EXISTS "ttls";
`)

var sqlRPCRequests = `
CREATE TABLE IF NOT EXISTS "clustering_rpc_requests" (
  "id"        BIGSERIAL PRIMARY KEY,
  "node_id"   UUID NOT NULL,
  "reply_to"  UUID NOT NULL,
  "ttl"       TIMESTAMP WITH TIME ZONE NOT NULL,
  "payload"   JSON NOT NULL
);
CREATE INDEX IF NOT EXISTS "clustering_rpc_requests_node_id_idx" ON "clustering_rpc_requests" ("node_id");
` + addColumn("clustering_data_planes", "rpc_capabilities", "TEXT[]")

var sqlSyncVersion = `
CREATE TABLE IF NOT EXISTS "clustering_sync_version" (
  "version" BIGSERIAL PRIMARY KEY
);
`

var sqlDropSyncDelta = `
DROP TABLE IF EXISTS "clustering_sync_delta";
DROP INDEX IF EXISTS "clustering_sync_delta_version_idx";
`
