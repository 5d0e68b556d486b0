package admin

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/luahost/luahost/balancer"
	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/host/hosttest"
	"github.com/luahost/luahost/kongdb/schema"
)

// rebuildBalancers loads every upstream and target into reg, as the node
// does on their CRUD events.
func rebuildBalancers(t *testing.T, h *host.Host, reg *balancer.Registry) {
	t.Helper()
	load := func(name string) []map[string]any {
		it, err := h.Root.DB.DAO(name).Each(context.Background(), 1000, map[string]any{"workspace": schema.Null})
		if err != nil {
			t.Fatal(err)
		}
		var rows []map[string]any
		for r, err := range it {
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, r)
		}
		return rows
	}
	reg.Rebuild(context.Background(), load("upstreams"), load("targets"))
}

func TestUpstreamHealthEndpoints(t *testing.T) {
	hosttest.EachStrategy(t, testConf, func(t *testing.T, h *host.Host) {
		reg := &balancer.Registry{}
		t.Cleanup(reg.Close)
		n := startAdminWith(t, h, reg)
		n.must(201, "POST", "/upstreams", M{"name": "h.test",
			"healthchecks": M{"passive": M{"unhealthy": M{"tcp_failures": 1}}}})
		n.must(201, "POST", "/upstreams/h.test/targets", M{"target": "127.0.0.1:1"})
		n.must(201, "POST", "/upstreams/h.test/targets", M{"target": "127.0.0.2:2", "weight": 0})
		n.must(201, "POST", "/upstreams", M{"name": "off.test"})
		n.must(201, "POST", "/upstreams/off.test/targets", M{"target": "127.0.0.3:3"})

		// no balancer yet: the targets without health (Kong logs "balancer not found")
		if got := data(n.must(200, "GET", "/upstreams/h.test/health", nil)); len(got) != 2 || got[0].(M)["health"] != nil {
			t.Fatalf("without a balancer: %v", got)
		}
		if r := n.do("PUT", "/upstreams/h.test/targets/127.0.0.1:1/unhealthy", nil); r.Status != 400 ||
			r.Body["message"] != "Upstream h.test has no balancer" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		rebuildBalancers(t, h, reg)

		health := func(u string) map[string]M {
			b := n.must(200, "GET", "/upstreams/"+u+"/health", nil)
			if b["node_id"] != h.Root.NodeIDValue() || b["next"] != nil {
				t.Fatalf("health body %v", b)
			}
			out := map[string]M{}
			for _, e := range data(b) {
				out[str(e.(M)["target"])] = e.(M)
			}
			return out
		}
		got := health("h.test")
		t1, t2 := got["127.0.0.1:1"], got["127.0.0.2:2"]
		if t1["health"] != "HEALTHY" || t2["health"] != "HEALTHCHECKS_OFF" {
			t.Fatalf("health %v / %v", t1["health"], t2["health"])
		}
		d := t1["data"].(M)
		addrs := d["addresses"].([]any)
		if d["host"] != "127.0.0.1" || d["port"] != float64(1) || d["dns"] != "A" || d["nodeWeight"] != float64(100) ||
			len(addrs) != 1 || addrs[0].(M)["health"] != "HEALTHY" || addrs[0].(M)["ip"] != "127.0.0.1" ||
			d["weight"].(M)["available"] != float64(100) {
			t.Fatalf("target data %v", d)
		}
		// by hand: the target, then one address of it
		n.must(204, "PUT", "/upstreams/h.test/targets/127.0.0.1:1/unhealthy", nil)
		if got := health("h.test")["127.0.0.1:1"]; got["health"] != "UNHEALTHY" ||
			got["data"].(M)["weight"].(M)["unavailable"] != float64(100) {
			t.Fatalf("after unhealthy: %v", got)
		}
		id := str(t1["id"])
		n.must(204, "PUT", "/upstreams/h.test/targets/"+id+"/127.0.0.1:1/healthy", nil)
		if got := health("h.test")["127.0.0.1:1"]["health"]; got != "HEALTHY" {
			t.Fatalf("after healthy by address: %v", got)
		}
		n.must(404, "PUT", "/upstreams/h.test/targets/127.0.0.9:1/healthy", nil)
		n.must(404, "PUT", "/upstreams/nope.test/targets/127.0.0.1:1/healthy", nil)

		// the balancer's own health
		b := n.must(200, "GET", "/upstreams/h.test/health?balancer_health=1", nil)
		bd := b["data"].(M)
		if bd["health"] != "HEALTHY" || bd["balancer_health"] != "HEALTHY" || bd["id"] == nil ||
			bd["details"].(M)["healthy"] != true || len(bd["details"].(M)["hosts"].([]any)) != 2 || b["next"] != nil {
			t.Fatalf("balancer health %v", b)
		}
		n.must(204, "PUT", "/upstreams/h.test/targets/127.0.0.1:1/unhealthy", nil)
		if bd := n.must(200, "GET", "/upstreams/h.test/health?balancer_health=1", nil)["data"].(M); bd["health"] != "UNHEALTHY" {
			t.Fatalf("balancer health with its only weighted target down: %v", bd)
		}

		// no health checks configured
		if got := health("off.test")["127.0.0.3:3"]["health"]; got != "HEALTHCHECKS_OFF" {
			t.Fatalf("off.test: %v", got)
		}
		if bd := n.must(200, "GET", "/upstreams/off.test/health?balancer_health=1", nil)["data"].(M); bd["health"] != "HEALTHCHECKS_OFF" || bd["balancer_health"] != "HEALTHY" {
			t.Fatalf("off.test balancer: %v", bd)
		}
		if r := n.do("PUT", "/upstreams/off.test/targets/127.0.0.3:3/healthy", nil); r.Status != 400 ||
			r.Body["message"] != "no healthchecker found for off.test" {
			t.Fatalf("%d %s", r.Status, r.Raw)
		}
		n.must(404, "GET", "/upstreams/nope.test/health", nil)
		// paging
		p := n.must(200, "GET", "/upstreams/h.test/health?size=1", nil)
		if len(data(p)) != 1 || p["offset"] != "1" || p["next"] != "/upstreams/h.test/health?offset=1" {
			t.Fatalf("page %v", p)
		}
		all := n.must(200, "GET", "/upstreams/h.test/targets/all?size=1", nil)
		if next, _ := all["next"].(string); len(data(all)) != 1 || !strings.HasPrefix(next, "/upstreams/h.test/targets/all?offset=") {
			t.Fatalf("targets/all page %v", all)
		}
	})
}

func startAdminWith(t *testing.T, h *host.Host, reg *balancer.Registry) *node {
	t.Helper()
	s, err := New(Options{Host: h, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Balancers: reg})
	if err != nil {
		t.Fatal(err)
	}
	return serveAdmin(t, h, s)
}
