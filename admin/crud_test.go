package admin

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestCoreCRUD(t *testing.T) {
	eachStore(t, func(t *testing.T, n *node) {
		svc := n.must(201, "POST", "/services", M{"name": "example", "url": "http://example.test:8080/api"})
		if svc["host"] != "example.test" || svc["port"] != float64(8080) || svc["path"] != "/api" || svc["protocol"] != "http" {
			t.Fatalf("service: %v", svc)
		}
		if _, ok := svc["tags"]; !ok || svc["tags"] != nil {
			t.Fatalf("unset fields are null (nulls=true): %v", svc)
		}
		id := str(svc["id"])
		if r := n.do("GET", "/services/"+str(svc["id"]), nil); r.Header.Get("X-Kong-Admin-Latency") == "" ||
			!strings.HasPrefix(r.Header.Get("Server"), "kong/") || r.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Fatalf("headers: %v", r.Header)
		}
		// by id and by endpoint key
		if got := n.must(200, "GET", "/services/"+id, nil); got["name"] != "example" {
			t.Fatal(got)
		}
		if got := n.must(200, "GET", "/services/example", nil); got["id"] != id {
			t.Fatal(got)
		}
		// PATCH by name
		if got := n.must(200, "PATCH", "/services/example", M{"retries": 2}); got["retries"] != float64(2) || got["host"] != "example.test" {
			t.Fatal(got)
		}
		// PUT creates and replaces
		put := n.must(200, "PUT", "/services/other", M{"host": "other.test"})
		if put["name"] != "other" || put["port"] != float64(80) {
			t.Fatal(put)
		}
		// collection
		if got := data(n.must(200, "GET", "/services", nil)); len(got) != 2 {
			t.Fatalf("want 2 services: %v", got)
		}
		// nested: routes of a service
		rt := n.must(201, "POST", "/services/example/routes", M{"name": "r1", "paths": []string{"/one"}})
		if m, _ := rt["service"].(map[string]any); m["id"] != id {
			t.Fatalf("route's service: %v", rt)
		}
		if got := data(n.must(200, "GET", "/services/"+id+"/routes", nil)); len(got) != 1 {
			t.Fatal(got)
		}
		if got := n.must(200, "GET", "/services/example/routes/r1", nil); got["name"] != "r1" {
			t.Fatal(got)
		}
		// a route of another service is not found under this one
		n.must(404, "GET", "/services/other/routes/r1", nil)
		if got := n.must(200, "GET", "/routes/r1/service", nil); got["id"] != id {
			t.Fatal(got)
		}
		if got := n.must(200, "PATCH", "/services/example/routes/r1", M{"paths": []string{"/two"}}); fmt.Sprint(got["paths"]) != "[/two]" {
			t.Fatal(got)
		}
		n.must(405, "DELETE", "/routes/r1/service", nil)
		// consumers and a plugin on the route (form-encoded, nested keys)
		n.must(201, "POST", "/consumers", url.Values{"username": {"bob"}, "custom_id": {"b-1"}})
		if got := data(n.must(200, "GET", "/consumers?custom_id=b-1", nil)); len(got) != 1 {
			t.Fatal(got)
		}
		pl := n.must(201, "POST", "/routes/r1/plugins", url.Values{
			"name": {"admin-notes"}, "config.key_names[]": {"a", "b"}, "config.minute": {"5"},
			"config.strict": {"true"}, "config.limits.hour": {"7"}})
		cfg, _ := pl["config"].(map[string]any)
		if fmt.Sprint(cfg["key_names"]) != "[a b]" || cfg["minute"] != float64(5) || cfg["strict"] != true ||
			fmt.Sprint(cfg["limits"]) != "map[hour:7]" {
			t.Fatalf("plugin config: %v", pl)
		}
		pid := str(pl["id"])
		if got := data(n.must(200, "GET", "/routes/r1/plugins", nil)); len(got) != 1 {
			t.Fatal(got)
		}
		// form PATCH of a plugin: the config is inferred with its name
		if got := n.must(200, "PATCH", "/plugins/"+pid, url.Values{"config.minute": {"9"}}); got["config"].(map[string]any)["minute"] != float64(9) {
			t.Fatal(got)
		}
		// multipart
		body := "--XX\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n--XX--\r\n"
		n.must(201, "POST", "/consumers", body, "multipart/form-data; boundary=XX")
		n.must(200, "GET", "/consumers/alice", nil)
		// deletes: 204, also for what does not exist
		n.must(204, "DELETE", "/plugins/"+pid, nil)
		n.must(404, "GET", "/plugins/"+pid, nil)
		n.must(204, "DELETE", "/plugins/"+pid, nil)
		n.must(204, "DELETE", "/services/example/routes/r1", nil)
		n.must(404, "GET", "/routes/r1", nil)
		n.must(204, "DELETE", "/services/other", nil)
		n.must(204, "DELETE", "/consumers/bob", nil)
		if got := data(n.must(200, "GET", "/consumers", nil)); len(got) != 1 {
			t.Fatal(got)
		}
	})
}

func TestPaging(t *testing.T) {
	eachStore(t, func(t *testing.T, n *node) {
		for i := 0; i < 5; i++ {
			tags := []string{"all"}
			if i%2 == 0 {
				tags = append(tags, "even")
			}
			n.must(201, "POST", "/consumers", M{"username": fmt.Sprintf("u%d", i), "tags": tags})
		}
		seen := map[string]bool{}
		path := "/consumers?size=2"
		pages := 0
		for path != "" {
			b := n.must(200, "GET", path, nil)
			pages++
			for _, e := range data(b) {
				seen[str(e.(map[string]any)["username"])] = true
			}
			next, _ := b["next"].(string)
			if next != "" && b["offset"] == nil {
				t.Fatalf("next without offset: %v", b)
			}
			if next == "" {
				if _, has := b["offset"]; has {
					t.Fatalf("last page has an offset: %v", b)
				}
				if v, has := b["next"]; !has || v != nil {
					t.Fatalf("last page's next is null: %v", b)
				}
			}
			path = next
		}
		if len(seen) != 5 || pages != 3 {
			t.Fatalf("%d pages, %v", pages, seen)
		}
		if got := data(n.must(200, "GET", "/consumers?tags=even", nil)); len(got) != 3 {
			t.Fatalf("tags=even: %v", got)
		}
		if got := data(n.must(200, "GET", "/consumers?tags=all,even", nil)); len(got) != 3 {
			t.Fatalf("tags=all,even: %v", got)
		}
		if got := data(n.must(200, "GET", "/consumers?tags=even/nothing", nil)); len(got) != 3 {
			t.Fatalf("tags=even/nothing: %v", got)
		}
		b := n.must(200, "GET", "/consumers?tags=all&size=4", nil)
		if str(b["next"]) != "/consumers?offset="+escapeURI(str(b["offset"]))+"&tags=all&size=4" {
			t.Fatalf("next: %v", b["next"])
		}
	})
}

// The services url shorthand as Kong 3's: without a scheme the protocol is
// http (https on port 443) and the port 80 (443 for https), so a URL that
// names no host is refused for its host and path only.
func TestServiceURLShorthandDefaults(t *testing.T) {
	eachStore(t, func(t *testing.T, n *node) {
		got := n.must(400, "POST", "/services", M{"url": "invalid url"})
		fields, _ := got["fields"].(map[string]any)
		if len(fields) != 2 || fields["host"] != "required field missing" || fields["path"] != "should start with: /" {
			t.Errorf("invalid url: %v", got)
		}
		for u, want := range map[string]string{
			"https://a.test/p":    "https a.test 443 /p",
			"http://a.test":       "http a.test 80 <nil>",
			"https://a.test:8443": "https a.test 8443 <nil>",
		} {
			s := n.must(201, "POST", "/services", M{"url": u})
			if g := fmt.Sprint(s["protocol"], " ", s["host"], " ", s["port"], " ", s["path"]); g != want {
				t.Errorf("%s: %s, want %s", u, g, want)
			}
		}
	})
}
