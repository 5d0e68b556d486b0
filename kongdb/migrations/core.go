package migrations

import (
	"context"

	"github.com/google/uuid"

	"github.com/luahost/luahost/kongdb/postgres"
)

// CoreNamespace is Kong's namespace of the core migrations.
const CoreNamespace = "kong.db.migrations.core"

// Core returns luahost's own core migrations: Kong's subsystem "core" and
// Kong's migration names in Kong's order (kong/db/migrations/core/init.lua
// at 3.10), so a database bootstrapped by either reads as up to date to the
// other. 000_base creates the original tables in their current shape; the
// later ones add, idempotently, what each Kong release added, so that a
// database bootstrapped by an older Kong gains the newer tables and columns.
func Core() *Subsystem {
	m := func(name, up string) *Migration { return &Migration{Name: name, Up: up} }
	return &Subsystem{Name: "core", Namespace: CoreNamespace, Migrations: []*Migration{
		m("000_base", sqlBase),
		m("003_100_to_110", join(addColumn("plugins", "protocols", "TEXT[]"), sqlTags)),
		m("004_110_to_120", addColumn("routes", "https_redirect_status_code", "INTEGER")),
		m("005_120_to_130", join(addColumn("upstreams", "algorithm", "TEXT"), sqlCACertificates,
			addColumn("routes", "headers", "JSONB"), addColumn("services", "client_certificate_id", "UUID"))),
		m("006_130_to_140", addColumn("upstreams", "host_header", "TEXT")),
		m("007_140_to_150", addColumn("routes", "path_handling", "TEXT DEFAULT 'v1'")),
		{Name: "008_150_to_200", TeardownGo: teardown008},
		migration009(),
		m("010_210_to_211", ""),
		m("011_212_to_213", ""),
		m("012_213_to_220", join(sqlClusteringDataPlanes, addColumn("routes", "request_buffering", "BOOLEAN"),
			addColumn("routes", "response_buffering", "BOOLEAN"))),
		m("013_220_to_230", join(sqlParameters, clusterID(uuid.NewString()), addColumn("certificates", "cert_alt", "TEXT"),
			addColumn("certificates", "key_alt", "TEXT"), addColumn("clustering_data_planes", "version", "TEXT"),
			addColumn("clustering_data_planes", "sync_status", "TEXT NOT NULL DEFAULT 'unknown'"))),
		m("014_230_to_270", addColumn("services", "enabled", "BOOLEAN DEFAULT true")),
		m("015_270_to_280", ""),
		m("016_280_to_300", join(sqlVaults, addColumn("targets", "cache_key", "TEXT UNIQUE"),
			addColumn("upstreams", "hash_on_query_arg", "TEXT"), addColumn("upstreams", "hash_fallback_query_arg", "TEXT"),
			addColumn("upstreams", "hash_on_uri_capture", "TEXT"), addColumn("upstreams", "hash_fallback_uri_capture", "TEXT"),
			addColumn("routes", "expression", "TEXT"), addColumn("routes", "priority", "BIGINT"))),
		m("017_300_to_310", join(addColumn("upstreams", "use_srv_name", "BOOLEAN DEFAULT false"), sqlKeys)),
		m("018_310_to_320", addColumn("plugins", "instance_name", "TEXT")),
		m("019_320_to_330", join(updatedAt("plugins", 0), updatedAt("ca_certificates", 0), updatedAt("certificates", 0),
			updatedAt("consumers", 0), updatedAt("snis", 0), updatedAt("targets", 3), updatedAt("upstreams", 0),
			updatedAt("workspaces", 0), updatedAt("clustering_data_planes", 0), sqlBatchDelete)),
		m("020_330_to_340", sqlFilterChains),
		m("021_340_to_350", addColumn("clustering_data_planes", "labels", "JSONB")),
		m("022_350_to_360", addColumn("clustering_data_planes", "cert_details", "JSONB")),
		m("023_360_to_370", sqlRPCRequests),
		m("024_380_to_390", sqlSyncVersion),
		m("025_390_to_3100", sqlDropSyncDelta),
	}}
}

// clusterID is 013_220_to_230's row of kong.cluster.get_id(): Kong's
// migration inserts a UUID made when the migration is loaded, and keeps the
// one a database already has.
func clusterID(id string) string {
	return "INSERT INTO parameters (key, value) VALUES('cluster_id', '" + id + "')\nON CONFLICT DO NOTHING;\n"
}

func updatedAt(table string, precision int) string {
	d := tsNow0
	if precision == 3 {
		d = tsNow3
	}
	return addColumn(table, "updated_at", d)
}

// teardown008 is the destructive half of Kong's 1.5 -> 2.0 step: the
// plugins.run_on column and the cluster_ca table go.
func teardown008(ctx context.Context, c *postgres.Connector) error {
	_, err := c.Query(ctx, `ALTER TABLE IF EXISTS ONLY "plugins" DROP COLUMN IF EXISTS "run_on";
DROP TABLE IF EXISTS "cluster_ca";`)
	return err
}
