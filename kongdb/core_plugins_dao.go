package kongdb

import (
	"context"
	"maps"
)

// The plugins entity's custom DAO (Kong's kong/db/dao/plugins.lua): insert,
// update and upsert first check that the plugin's protocols meet those of
// its route, or of at least one route of its service.

// writeCheck runs before insert ("insert", nil pk), update and upsert; it
// may return a changed entity (update fills in from the stored row).
type writeCheck func(ctx context.Context, d *DAO, op string, pk Row, e Row, opts any) (Row, error)

func checkPluginProtocols(ctx context.Context, d *DAO, op string, pk Row, e Row, opts any) (Row, error) {
	if op == "update" {
		_, hasP := e["protocols"]
		_, hasS := e["service"]
		_, hasR := e["route"]
		if !hasP && !hasS && !hasR {
			return e, nil
		}
		if (hasP && !hasR) || (hasS && !hasP) || (hasR && !hasP) {
			if rbw, _ := d.Select(ctx, pk, opts); rbw != nil {
				e = maps.Clone(e)
				for _, k := range []string{"protocols", "service", "route"} {
					if _, ok := e[k]; !ok {
						if v, ok := rbw[k]; ok {
							e[k] = v
						}
					}
				}
			}
		}
	}
	protos, ok := e["protocols"].([]any)
	if !ok {
		return e, nil
	}
	routes := d.db.DAO("routes")
	if routes == nil {
		return e, nil
	}
	if route, ok := e["route"].(map[string]any); ok {
		r, _ := routes.Select(ctx, route, nil)
		if r != nil && !commonProtocol(protos, r) {
			return nil, d.Errors.SchemaViolation(map[string]any{
				"protocols": "must match the associated route's protocols"})
		}
	} else if svc, ok := e["service"].(map[string]any); ok {
		it, err := routes.EachFor(ctx, "service", svc, nil, nil)
		if err != nil {
			return nil, err
		}
		hadRoute, match := false, false
		for r, err := range it {
			if err != nil {
				return nil, err
			}
			hadRoute = true
			if commonProtocol(protos, r) {
				match = true
				break
			}
		}
		if hadRoute && !match {
			return nil, d.Errors.SchemaViolation(map[string]any{
				"protocols": "must match the protocols of at least one route pointing to this Plugin's service"})
		}
	}
	return e, nil
}

func commonProtocol(protos []any, route Row) bool {
	rp, _ := route["protocols"].([]any)
	for _, p := range protos {
		for _, q := range rp {
			if p == q {
				return true
			}
		}
	}
	return false
}
