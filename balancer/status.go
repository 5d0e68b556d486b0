package balancer

import (
	"strconv"
	"strings"
)

// TargetKey is how Kong names a target in health reports: its targets
// row's "target" ("name:port", "[v6]:port").
func (t *Target) TargetKey() string {
	name := t.Name
	if strings.Contains(name, ":") {
		name = "[" + name + "]"
	}
	return name + ":" + strconv.Itoa(t.Port)
}

func (b *Balancer) targetStatus(t *Target, health bool) map[string]any {
	var total, unavail int
	addrs := make([]any, 0, len(t.Addresses))
	for _, a := range t.Addresses {
		total += a.Weight
		ok := a.available.Load()
		if !ok {
			unavail += a.Weight
		}
		m := map[string]any{"ip": a.IP, "port": a.Port, "weight": a.Weight}
		if health {
			switch {
			case b.usingHC && t.Weight > 0 && ok:
				m["health"] = "HEALTHY"
			case b.usingHC && t.Weight > 0:
				m["health"] = "UNHEALTHY"
			default:
				m["health"] = "HEALTHCHECKS_OFF"
			}
		} else {
			m["healthy"] = ok
		}
		addrs = append(addrs, m)
	}
	host := t.Name
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return map[string]any{
		"host": host, "port": t.Port, "dns": t.DNS, "nodeWeight": t.Weight,
		"weight":    map[string]any{"total": total, "unavailable": unavail, "available": total - unavail},
		"addresses": addrs,
	}
}

// Health is Kong's get_upstream_health: each target's status by its
// TargetKey, each address with its health (HEALTHY, UNHEALTHY, or
// HEALTHCHECKS_OFF when no checker runs or the target has weight 0).
func (b *Balancer) Health() map[string]map[string]any {
	out := make(map[string]map[string]any, len(b.targets))
	for _, t := range b.targets {
		out[t.TargetKey()] = b.targetStatus(t, true)
	}
	return out
}

// TargetHealth is the health of a target for GET /upstreams/:u/health
// (Kong's page_for_upstream_with_health): HEALTHY when one address is,
// else UNHEALTHY when one is, else HEALTHCHECKS_OFF; DNS_ERROR when the
// target has no address (or is unknown to the balancer); with the status
// Health gives it (nil for DNS_ERROR of an unknown target).
func (b *Balancer) TargetHealth(target string) (string, map[string]any) {
	for _, t := range b.targets {
		if t.TargetKey() != target {
			continue
		}
		st := b.targetStatus(t, true)
		if len(t.Addresses) == 0 {
			return "DNS_ERROR", st
		}
		h := "HEALTHCHECKS_OFF"
		for _, a := range st["addresses"].([]any) {
			switch a.(map[string]any)["health"] {
			case "HEALTHY":
				return "HEALTHY", st
			case "UNHEALTHY":
				h = "UNHEALTHY"
			}
		}
		return h, st
	}
	return "DNS_ERROR", nil
}

// BalancerHealth is Kong's get_balancer_health: the balancer's own health
// (health HEALTHCHECKS_OFF without a checker), its id and its status.
func (b *Balancer) BalancerHealth() map[string]any {
	var total, unavail int
	hosts := make([]any, 0, len(b.targets))
	for _, t := range b.targets {
		for _, a := range t.Addresses {
			total += a.Weight
			if !a.available.Load() {
				unavail += a.Weight
			}
		}
		hosts = append(hosts, b.targetStatus(t, false))
	}
	bh := "UNHEALTHY"
	if b.Healthy() {
		bh = "HEALTHY"
	}
	health := "HEALTHCHECKS_OFF"
	if b.usingHC {
		health = bh
	}
	return map[string]any{
		"health": health, "balancer_health": bh, "id": b.Upstream.ID,
		"details": map[string]any{
			"healthy": b.Healthy(),
			"weight":  map[string]any{"total": total, "unavailable": unavail, "available": total - unavail},
			"hosts":   hosts,
		},
	}
}
