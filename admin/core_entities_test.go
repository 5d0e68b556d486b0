package admin

import (
	"context"
	"testing"
	"time"

	"github.com/luahost/luahost/kongdb/kongdbtest"
)

func TestSnisAdmin(t *testing.T) {
	eachStore(t, func(t *testing.T, n *node) {
		c, k := kongdbtest.Cert(t, "example.test", false, time.Now().Add(24*time.Hour))
		id := str(n.must(201, "POST", "/certificates", M{"cert": c, "key": k})["id"])

		bad := n.must(400, "POST", "/snis", M{"name": "1.2.3.4"})
		if bad["message"] != "2 schema violations (certificate: required field missing; name: must not be an IP)" ||
			bad["name"] != "schema violation" || bad["code"] != float64(2) {
			t.Fatalf("invalid sni: %v", bad)
		}
		a := n.must(201, "POST", "/snis", M{"name": "a.test", "certificate": M{"id": id}})
		b := n.must(201, "POST", "/certificates/"+id+"/snis", M{"name": "*.b.test"})
		if ref, _ := b["certificate"].(map[string]any); ref["id"] != id {
			t.Fatalf("nested sni's certificate: %v", b)
		}
		if got := data(n.must(200, "GET", "/certificates/"+id+"/snis", nil)); len(got) != 2 {
			t.Fatalf("snis of the certificate: %v", got)
		}
		if got := n.must(200, "GET", "/snis/a.test", nil); got["id"] != a["id"] {
			t.Fatal(got)
		}
		if got := n.must(200, "PATCH", "/snis/a.test", M{"name": "c.test"}); got["name"] != "c.test" {
			t.Fatal(got)
		}
		if got := n.must(409, "POST", "/snis", M{"name": "c.test", "certificate": M{"id": id}}); got["message"] != `UNIQUE violation detected on '{name="c.test"}'` {
			t.Fatal(got)
		}
		// Kong disables /snis/:snis/certificate
		if got := n.must(404, "GET", "/snis/c.test/certificate", nil); got["message"] != "Not found" {
			t.Fatal(got)
		}
		// deleting the certificate deletes its snis
		n.must(204, "DELETE", "/certificates/"+id, nil)
		if got := data(n.must(200, "GET", "/snis", nil)); len(got) != 0 {
			t.Fatalf("snis outlived their certificate: %v", got)
		}
		n.must(404, "GET", "/snis/c.test", nil)
	})
}

func TestCACertificatesAdmin(t *testing.T) {
	eachStore(t, func(t *testing.T, n *node) {
		leaf, _ := kongdbtest.Cert(t, "leaf.test", false, time.Now().Add(24*time.Hour))
		got := n.must(400, "POST", "/ca_certificates", M{"cert": leaf})
		if got["message"] != `schema violation (certificate does not appear to be a CA because it is missing the "CA" basic constraint)` {
			t.Fatal(got)
		}
		if got := n.must(400, "POST", "/ca_certificates", M{"cert": "nope"}); got["message"] == nil {
			t.Fatal(got)
		}
		ca, _ := kongdbtest.Cert(t, "ca.test", true, time.Now().Add(24*time.Hour))
		row := n.must(201, "POST", "/ca_certificates", M{"cert": ca, "tags": []string{"t1"}})
		id := str(row["id"])
		if len(str(row["cert_digest"])) != 64 {
			t.Fatalf("cert_digest: %v", row)
		}
		if got := n.must(409, "POST", "/ca_certificates", M{"cert": ca}); got["name"] != "unique constraint violation" {
			t.Fatal(got)
		}
		if got := n.must(200, "GET", "/ca_certificates/"+id, nil); got["cert_digest"] != row["cert_digest"] {
			t.Fatal(got)
		}
		if got := n.must(200, "PATCH", "/ca_certificates/"+id, M{"tags": []string{"t2"}}); got["tags"].([]any)[0] != "t2" {
			t.Fatal(got)
		}
		n.must(204, "DELETE", "/ca_certificates/"+id, nil)
		n.must(404, "GET", "/ca_certificates/"+id, nil)
	})
}

func TestUpstreamsTargetsAdmin(t *testing.T) {
	eachStore(t, func(t *testing.T, n *node) {
		bad := n.must(400, "POST", "/upstreams", M{"name": "10.0.0.1"})
		if f, _ := bad["fields"].(map[string]any); f["name"] != "Invalid name ('10.0.0.1'); no ip addresses allowed" {
			t.Fatal(bad)
		}
		bad = n.must(400, "POST", "/upstreams", M{"name": "u.test", "hash_on": "cookie"})
		if bad["message"] != "2 schema violations (failed conditional validation given value of field 'hash_on'; hash_on_cookie: required field missing)" {
			t.Fatal(bad)
		}
		u := n.must(201, "POST", "/upstreams", M{"name": "u.test"})
		if u["algorithm"] != "round-robin" || u["slots"] != float64(10000) {
			t.Fatal(u)
		}
		hc, _ := u["healthchecks"].(map[string]any)
		if p, _ := hc["passive"].(map[string]any); p["type"] != "http" {
			t.Fatalf("healthchecks defaults: %v", hc)
		}
		u2 := n.must(201, "POST", "/upstreams", M{"name": "u2.test", "hash_on": "consumer"})
		if u2["algorithm"] != "consistent-hashing" {
			t.Fatal(u2)
		}

		t1 := n.must(201, "POST", "/upstreams/u.test/targets", M{"target": "10.0.0.1"})
		if t1["target"] != "10.0.0.1:8000" || t1["weight"] != float64(100) {
			t.Fatal(t1)
		}
		n.must(409, "POST", "/upstreams/u.test/targets", M{"target": "10.0.0.1:8000"})
		if got := n.must(400, "POST", "/upstreams/u.test/targets", M{"target": "10.0.0.2", "weight": 65536}); got["message"] != "schema violation (weight: value should be between 0 and 65535)" {
			t.Fatal(got)
		}
		t2 := n.must(201, "POST", "/upstreams/u2.test/targets", M{"target": "10.0.0.1", "weight": 5})
		n.must(201, "POST", "/upstreams/u2.test/targets", M{"target": "b.test:81"})

		// a target by address is looked up within its upstream
		if got := n.must(200, "GET", "/upstreams/u2.test/targets/10.0.0.1:8000", nil); got["id"] != t2["id"] {
			t.Fatal(got)
		}
		if got := n.must(200, "GET", "/upstreams/u.test/targets/"+str(t1["id"]), nil); got["target"] != "10.0.0.1:8000" {
			t.Fatal(got)
		}
		n.must(404, "GET", "/upstreams/u.test/targets/"+str(t2["id"]), nil)
		n.must(404, "GET", "/upstreams/u.test/targets/b.test:81", nil)
		if got := n.must(200, "PATCH", "/upstreams/u2.test/targets/10.0.0.1:8000", M{"weight": 7}); got["weight"] != float64(7) || got["id"] != t2["id"] {
			t.Fatal(got)
		}
		if got := data(n.must(200, "GET", "/upstreams/u2.test/targets", nil)); len(got) != 2 {
			t.Fatal(got)
		}
		// Kong's page_for_upstream: numeric offsets
		p1 := n.must(200, "GET", "/upstreams/u2.test/targets?size=1", nil)
		if len(data(p1)) != 1 || p1["offset"] != "1" || p1["next"] != "/upstreams/u2.test/targets?offset=1" {
			t.Fatalf("first page: %v", p1)
		}
		p2 := n.must(200, "GET", "/upstreams/u2.test/targets?size=1&offset=1", nil)
		if len(data(p2)) != 1 || p2["next"] != nil || data(p2)[0].(map[string]any)["id"] == data(p1)[0].(map[string]any)["id"] {
			t.Fatalf("second page: %v", p2)
		}
		if got := data(n.must(200, "GET", "/upstreams/u2.test/targets/all", nil)); len(got) != 2 {
			t.Fatal(got)
		}
		// Kong disables the top-level targets endpoints
		n.must(404, "GET", "/targets", nil)
		n.must(404, "GET", "/targets/"+str(t1["id"]), nil)

		n.must(204, "DELETE", "/upstreams/u.test/targets/10.0.0.1:8000", nil)
		n.must(404, "GET", "/upstreams/u.test/targets/"+str(t1["id"]), nil)
		// deleting an upstream deletes its targets
		n.must(204, "DELETE", "/upstreams/u2.test", nil)
		r, err := n.s.db.DAO("targets").Select(context.Background(), M{"id": t2["id"]}, nil)
		if r != nil || err != nil {
			t.Fatalf("target outlived its upstream: %v %v", r, err)
		}
	})
}
