package admin

import (
	"context"
	"net"
	"strconv"
	"strings"

	"github.com/luahost/luahost/balancer"
	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
)

// healthRoutes are kong/api/routes/upstreams.lua's health endpoints:
// GET /upstreams/:upstreams/health (the targets with their health, or
// with ?balancer_health=1 the balancer's own) and PUT
// .../targets/:targets[/:address]/healthy|unhealthy, which set a target's
// (or one of its addresses') health by hand.
func (s *Server) healthRoutes(ups, tgs *kongdb.DAO) {
	s.rt.add("/upstreams/:upstreams/health").methods["GET"] = s.upstreamHealth(ups, tgs)
	for _, suffix := range []string{"", "/:address"} {
		s.rt.add("/upstreams/:upstreams/targets/:targets" + suffix + "/healthy").methods["PUT"] =
			s.targetEndpoint(ups, tgs, func(r *Request, t kongdb.Row) { s.setTargetHealth(r, t, true) })
		s.rt.add("/upstreams/:upstreams/targets/:targets" + suffix + "/unhealthy").methods["PUT"] =
			s.targetEndpoint(ups, tgs, func(r *Request, t kongdb.Row) { s.setTargetHealth(r, t, false) })
	}
}

// balancerOf is the upstream's balancer, nil when the node has none
// (Kong: "balancer not found", logged).
func (s *Server) balancerOf(u kongdb.Row) *balancer.Balancer {
	if s.opts.Balancers == nil {
		return nil
	}
	s.freshBalancers()
	id, _ := u["id"].(string)
	b := s.opts.Balancers.ByID(id)
	if b == nil {
		s.logger.Error("failed getting upstream health: balancer not found", "upstream", u["name"])
	}
	return b
}

func (s *Server) upstreamHealth(ups, tgs *kongdb.DAO) HandlerFunc {
	return func(r *Request) {
		nodeID := s.h.Root.NodeIDValue()
		if v, _ := firstString(r.Query["balancer_health"]); v == "1" {
			u, ok := s.selectOr404(r, ups, r.Params["upstreams"])
			if !ok {
				return
			}
			body := map[string]any{"next": schema.Null, "node_id": nodeID}
			if b := s.balancerOf(u); b != nil {
				body["data"] = b.BalancerHealth()
			}
			r.JSON(200, body)
			return
		}
		u, page, next, ok := s.activeTargets(r, ups, tgs)
		if !ok {
			return
		}
		if b := s.balancerOf(u); b != nil {
			for i, t := range page {
				row := copyRow(t.(kongdb.Row))
				h, data := b.TargetHealth(strOf(row["target"]))
				row["health"] = h
				if data != nil {
					row["data"] = data
				}
				page[i] = row
			}
		}
		body := map[string]any{"data": page, "next": schema.Null, "node_id": nodeID}
		if next != "" {
			body["offset"] = next
			body["next"] = "/upstreams/" + r.Params["upstreams"] + "/health?offset=" + next
		}
		r.JSON(200, body)
	}
}

func copyRow(r kongdb.Row) kongdb.Row {
	out := make(kongdb.Row, len(r)+2)
	for k, v := range r {
		out[k] = v
	}
	return out
}

func strOf(v any) string {
	s, _ := v.(string)
	return s
}

// setTargetHealth is Kong's set_target_health and the targets DAO's
// post_health: the target's hostname and port, or with :address that
// address (its port 8000 when it gives none); 400 with the balancer's
// error (no balancer, no health checker).
func (s *Server) setTargetHealth(r *Request, t kongdb.Row, healthy bool) {
	u, ok := s.selectOr404(r, s.db.DAO("upstreams"), r.Params["upstreams"])
	if !ok {
		return
	}
	tr, ok := balancer.ParseTarget(t)
	if !ok {
		r.Exit(400, "invalid target "+strOf(t["target"]))
		return
	}
	ip, port := "", tr.Port
	if a := r.Params["address"]; a != "" {
		host, p, err := net.SplitHostPort(a)
		if err != nil {
			host, p = strings.Trim(a, "[]"), "8000"
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			r.Exit(400, "invalid address "+a)
			return
		}
		ip, port = host, n
		if net.ParseIP(ip) == nil { // a name: every address of that hostname
			ip = ""
		}
	}
	s.freshBalancers()
	if s.opts.Balancers == nil || s.opts.Balancers.ByID(strOf(u["id"])) == nil {
		r.Exit(400, "Upstream "+strOf(u["name"])+" has no balancer")
		return
	}
	if err := s.opts.Balancers.PostHealth(strOf(u["id"]), tr.Name, ip, port, healthy); err != nil {
		r.Exit(400, err.Error())
		return
	}
	r.Exit(204, nil)
}

// freshBalancers brings the balancers up to date (Options.FreshBalancers);
// on error the stale ones answer.
func (s *Server) freshBalancers() {
	if s.opts.FreshBalancers == nil {
		return
	}
	if err := s.opts.FreshBalancers(context.Background()); err != nil {
		s.logger.Error("could not rebuild the balancers (the stale ones are used)", "err", err)
	}
}
