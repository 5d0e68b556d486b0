package kongdb

import (
	"context"
	"maps"
)

// Custom DAO behaviour of the TLS and balancing entities: the targets DAO
// formats a target on insert and upsert (kong/db/dao/targets.lua), the
// certificates DAO deletes a certificate's SNIs before the certificate
// (kong/db/dao/certificates.lua), although snis.certificate has no
// on_delete = "cascade".

// formatTargetCheck gives a target Kong's form: default port 8000, IPv6 in
// brackets. An update keeps the target as sent, as Kong's does.
func formatTargetCheck(ctx context.Context, d *DAO, op string, pk Row, e Row, opts any) (Row, error) {
	if op != "insert" && op != "upsert" {
		return e, nil
	}
	t, ok := e["target"].(string)
	if !ok {
		return e, nil
	}
	f, ok := FormatTarget(t)
	if !ok {
		return nil, d.Errors.SchemaViolation(map[string]any{
			"target": "Invalid target; not a valid hostname or ip address"})
	}
	e = maps.Clone(e)
	e["target"] = f
	return e, nil
}

// deleteCertificateSNIs is the certificates DAO's delete: the SNIs of the
// certificate go first, each with its own delete event.
func deleteCertificateSNIs(ctx context.Context, d *DAO, cert Row, raw map[string]any) error {
	snis := d.db.DAO("snis")
	if snis == nil {
		return nil
	}
	it, err := snis.EachFor(ctx, "certificate", d.ExtractPK(cert), nil, raw)
	if err != nil {
		return err
	}
	var pks []Row
	for row, err := range it {
		if err != nil {
			return err
		}
		pks = append(pks, snis.ExtractPK(row))
	}
	for _, pk := range pks {
		if _, err := snis.Delete(ctx, pk, raw); err != nil {
			return err
		}
	}
	return nil
}
