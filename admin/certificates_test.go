package admin

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/luahost/luahost/kongdb/kongdbtest"
)

func TestCertificatesSnisField(t *testing.T) {
	eachStore(t, func(t *testing.T, n *node) {
		c, k := kongdbtest.Cert(t, "example.test", false, time.Now().Add(24*time.Hour))
		snis := func(b map[string]any) string { return fmt.Sprint(b["snis"]) }

		// created with its snis, sorted; without any: []
		a := n.must(201, "POST", "/certificates", M{"cert": c, "key": k, "snis": []string{"b.test", "a.test"}})
		id := str(a["id"])
		if snis(a) != "[a.test b.test]" {
			t.Fatalf("POST: %v", a)
		}
		if got := n.do("POST", "/certificates", M{"cert": c, "key": k}); got.Status != 201 || got.Raw == "" || fmt.Sprint(got.Body["snis"]) != "[]" {
			t.Fatalf("POST without snis: %s", got.Raw)
		}
		if got := data(n.must(200, "GET", "/snis", nil)); len(got) != 2 {
			t.Fatalf("snis rows: %v", got)
		}
		// read back, one and all
		if got := n.must(200, "GET", "/certificates/"+id, nil); snis(got) != "[a.test b.test]" {
			t.Fatalf("GET: %v", got)
		}
		for _, e := range data(n.must(200, "GET", "/certificates", nil)) {
			if e.(M)["id"] == id && snis(e.(M)) != "[a.test b.test]" {
				t.Fatalf("GET /certificates: %v", e)
			}
		}
		// by one of its names
		if got := n.must(200, "GET", "/certificates/a.test", nil); got["id"] != id {
			t.Fatalf("GET by sni: %v", got)
		}
		if got := n.must(404, "GET", "/certificates/none.test", nil); got["message"] != "SNI not found" {
			t.Fatalf("unknown sni: %v", got)
		}

		// a name of another certificate, a duplicate, a bad name
		other := n.do("POST", "/certificates", M{"cert": c, "key": k, "snis": []string{"a.test"}})
		want := "schema violation (snis: a.test already associated with existing certificate '" + id + "')"
		if other.Status != 400 || other.Body["message"] != want {
			t.Fatalf("taken sni: %d %s", other.Status, other.Raw)
		}
		if got := n.must(400, "POST", "/certificates", M{"cert": c, "key": k, "snis": []string{"x.test", "x.test"}}); got["message"] != "schema violation (snis: x.test is duplicated)" {
			t.Fatalf("duplicate: %v", got)
		}
		if got := n.must(400, "POST", "/certificates", M{"cert": c, "key": k, "snis": []string{"1.2.3.4"}}); got["name"] != "schema violation" {
			t.Fatalf("an IP as sni: %v", got)
		}

		// PATCH replaces the list; without snis it keeps it
		if got := n.must(200, "PATCH", "/certificates/"+id, M{"snis": []string{"c.test", "a.test"}}); snis(got) != "[a.test c.test]" {
			t.Fatalf("PATCH: %v", got)
		}
		n.must(404, "GET", "/snis/b.test", nil)
		if got := n.must(200, "PATCH", "/certificates/"+id, M{"tags": []string{"t"}}); snis(got) != "[a.test c.test]" {
			t.Fatalf("PATCH without snis: %v", got)
		}
		// form bodies: one name, or snis[]
		if got := n.must(200, "PATCH", "/certificates/"+id, url.Values{"snis[]": {"d.test", "e.test"}}); snis(got) != "[d.test e.test]" {
			t.Fatalf("PATCH form: %v", got)
		}
		// PUT without snis clears them; PUT to an unknown name creates
		// a certificate holding it
		if got := n.must(200, "PUT", "/certificates/"+id, M{"cert": c, "key": k}); snis(got) != "[]" {
			t.Fatalf("PUT without snis: %v", got)
		}
		put := n.must(200, "PUT", "/certificates/new.test", M{"cert": c, "key": k, "snis": []string{"z.test"}})
		if snis(put) != "[new.test z.test]" || put["id"] == id {
			t.Fatalf("PUT by a new name: %v", put)
		}
		n.must(204, "DELETE", "/certificates/new.test", nil)
		n.must(404, "GET", "/snis/z.test", nil)
	})
}

// /schemas/certificates/validate takes snis as Kong's certificates schema
// has them (an array of wildcard hosts), and the certificate's nested snis
// take an SNI name for the certificate as /certificates/:certificates does.
func TestCertificatesSnisValidateAndNested(t *testing.T) {
	eachStore(t, func(t *testing.T, n *node) {
		c, k := kongdbtest.Cert(t, "example.test", false, time.Now().Add(24*time.Hour))
		if got := n.must(200, "POST", "/schemas/certificates/validate", M{"cert": c, "key": k, "snis": []string{"a", "b"}}); got["message"] != "schema validation successful" {
			t.Fatalf("validate with snis: %v", got)
		}
		got := n.must(400, "POST", "/schemas/certificates/validate", M{"cert": c, "key": k, "snis": []string{"120.0.9.32:90"}})
		if got["message"] != "schema violation (snis.1: must not be an IP)" || fmt.Sprint(got["fields"]) != "map[snis:[must not be an IP]]" {
			t.Fatalf("validate with an IP as sni: %v", got)
		}
		// other fields' errors beside the snis'
		got = n.must(400, "POST", "/schemas/certificates/validate", M{"key": k, "snis": []string{"1.2.3.4"}})
		if fmt.Sprint(got["fields"]) != "map[cert:required field missing snis:[must not be an IP]]" {
			t.Fatalf("validate without cert: %v", got)
		}

		a := n.must(201, "POST", "/certificates", M{"cert": c, "key": k, "snis": []string{"a.test"}})
		s := n.must(201, "POST", "/certificates/a.test/snis", M{"name": "b.test"})
		if ref, _ := s["certificate"].(M); s["name"] != "b.test" || ref["id"] != a["id"] {
			t.Fatalf("POST by sni: %v", s)
		}
		if got := n.must(200, "GET", "/certificates/b.test/snis/a.test", nil); got["name"] != "a.test" {
			t.Fatalf("GET nested by sni: %v", got)
		}
		if got := n.must(404, "POST", "/certificates/none.test/snis", M{"name": "c.test"}); got["message"] != "SNI not found" {
			t.Fatalf("POST by an unknown sni: %v", got)
		}
	})
}
