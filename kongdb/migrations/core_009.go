package migrations

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"

	"github.com/google/uuid"

	"github.com/luahost/luahost/kongdb/postgres"
)

// coreWsEntities are the core tables Kong 2.1 made workspace-aware (009):
// their uniques become per workspace and their foreign keys include ws_id.
var coreWsEntities = []WsEntity{
	{Name: "upstreams", PrimaryKey: "id", Uniques: []string{"name"}},
	{Name: "targets", PrimaryKey: "id", FKs: []WsFK{{Name: "upstream", Reference: "upstreams", OnDelete: "cascade"}}},
	{Name: "consumers", PrimaryKey: "id", Uniques: []string{"username", "custom_id"}},
	{Name: "certificates", PrimaryKey: "id", Partitioned: true},
	// snis.name stays unique across workspaces
	{Name: "snis", PrimaryKey: "id", FKs: []WsFK{{Name: "certificate", Reference: "certificates"}}, Partitioned: true},
	{Name: "services", PrimaryKey: "id", Uniques: []string{"name"},
		FKs: []WsFK{{Name: "client_certificate", Reference: "certificates"}}, Partitioned: true},
	{Name: "routes", PrimaryKey: "id", Uniques: []string{"name"}, FKs: []WsFK{{Name: "service", Reference: "services"}}, Partitioned: true},
	{Name: "plugins", PrimaryKey: "id", CacheKey: []string{"name", "route", "service", "consumer"},
		FKs: []WsFK{{Name: "route", Reference: "routes", OnDelete: "cascade"},
			{Name: "service", Reference: "services", OnDelete: "cascade"},
			{Name: "consumer", Reference: "consumers", OnDelete: "cascade"}}},
}

// migration009 is Kong's 2.0 -> 2.1 step: new service/upstream columns,
// ca_certificates.cert_digest, and the workspace migration of the core
// tables; the teardown fills cert_digest and finishes the workspace data.
// On a database bootstrapped by 000_base every step finds its work done.
func migration009() *Migration {
	up := join(
		`ALTER TABLE IF EXISTS ONLY "ca_certificates" DROP CONSTRAINT IF EXISTS "ca_certificates_cert_key";`,
		addColumn("ca_certificates", "cert_digest", "TEXT UNIQUE"),
		addColumn("services", "tls_verify", "BOOLEAN"),
		addColumn("upstreams", "client_certificate_id", `UUID REFERENCES "certificates" ("id")`),
		addColumn("services", "tls_verify_depth", "SMALLINT"),
		addColumn("services", "ca_certificates", "UUID[]"),
		index("upstreams_fkey_client_certificate", "upstreams", `("client_certificate_id")`),
		WsAddWorkspaces(uuid.NewString()),
		WsAdjustFields(coreWsEntities),
	)
	return &Migration{Name: "009_200_to_210", Up: up, TeardownGo: teardown009}
}

func teardown009(ctx context.Context, c *postgres.Connector) error {
	if err := WsAdjustData(ctx, c, coreWsEntities); err != nil {
		return err
	}
	return fillCertDigests(ctx, c)
}

// fillCertDigests sets ca_certificates.cert_digest to the hex SHA-256 of
// each certificate's DER, then makes the column NOT NULL.
func fillCertDigests(ctx context.Context, c *postgres.Connector) error {
	res, err := c.Query(ctx, `SELECT id, cert, cert_digest FROM ca_certificates`)
	if err != nil {
		return err
	}
	for _, row := range res.Rows {
		id := fmt.Sprint(row["id"])
		cert, _ := row["cert"].(string)
		block, _ := pem.Decode([]byte(cert))
		if block == nil {
			return fmt.Errorf("cannot create digest value of certificate with id: %s", id)
		}
		sum := sha256.Sum256(block.Bytes)
		digest := hex.EncodeToString(sum[:])
		if have, _ := row["cert_digest"].(string); have == digest {
			continue
		}
		if _, err := c.Query(ctx, `UPDATE ca_certificates SET cert_digest = `+postgres.EscapeLiteral(digest)+
			` WHERE id = `+postgres.EscapeLiteral(id)); err != nil {
			return err
		}
	}
	_, err = c.Query(ctx, `DO $$
BEGIN
  ALTER TABLE IF EXISTS ONLY "ca_certificates" ALTER COLUMN "cert_digest" SET NOT NULL;
EXCEPTION WHEN undefined_column THEN
END;
$$;`)
	return err
}
