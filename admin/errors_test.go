package admin

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/errors")

// uuidRE hides generated ids in golden bodies.
var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// golden compares "<status>\n<body>" with testdata/errors/<name>.golden,
// the same on every store.
func golden(t *testing.T, name string, r resp) {
	t.Helper()
	got := fmt.Sprintf("%d\n%s\n", r.Status, uuidRE.ReplaceAllString(r.Raw, "<uuid>"))
	path := filepath.Join("testdata", "errors", name+".golden")
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s:\n got: %s\nwant: %s", name, got, want)
	}
}

func TestErrorBodies(t *testing.T) {
	eachStore(t, func(t *testing.T, n *node) {
		n.must(201, "POST", "/consumers", M{"username": "bob"})
		cases := []struct {
			name         string
			method, path string
			body         any
			ctype        string
		}{
			{"schema_violation", "POST", "/services", M{"host": "h.test", "port": 99999, "protocol": "gopher"}, ""},
			{"schema_violation_one", "POST", "/services", M{"host": "h.test", "port": "x"}, ""},
			{"unknown_field", "POST", "/consumers", M{"username": "x", "nope": 1}, ""},
			{"entity_check", "POST", "/consumers", M{}, ""},
			{"unique_violation", "POST", "/consumers", M{"username": "bob"}, ""},
			{"not_found", "GET", "/consumers/nobody", nil, ""},
			{"not_found_update", "PATCH", "/consumers/nobody", M{"custom_id": "x"}, ""},
			{"not_found_nested", "GET", "/consumers/nobody/plugins", nil, ""},
			{"invalid_primary_key", "GET", "/ca_certificates/not-a-uuid", nil, ""},
			{"sni_not_found", "GET", "/certificates/not-a-uuid", nil, ""},
			{"foreign_key", "POST", "/routes", M{"paths": []string{"/"}, "service": M{"id": "6a0a2b6d-0ee4-4b53-9e0c-0f1a2b3c4d5e"}}, ""},
			{"invalid_size", "GET", "/consumers?size=abc", nil, ""},
			{"invalid_size_range", "GET", "/consumers?size=5000", nil, ""},
			{"invalid_offset", "GET", "/consumers?offset=%25%25", nil, ""},
			{"tags_null", "GET", "/consumers?tags=", nil, ""},
			{"bad_json", "POST", "/consumers", `{"username": `, "application/json"},
			{"json_not_object", "POST", "/consumers", `[1,2]`, "application/json"},
			{"deep_json", "POST", "/consumers", strings.Repeat("[", 5000) + strings.Repeat("]", 5000), "application/json"},
			{"unsupported_media_type", "POST", "/consumers", "username=x", "text/plain"},
			{"method_not_allowed", "DELETE", "/consumers", nil, ""},
			{"unknown_route", "GET", "/nothing/here", nil, ""},
			{"unknown_plugin", "POST", "/plugins", M{"name": "no-such-plugin"}, ""},
			{"plugin_config", "POST", "/plugins", url.Values{"name": {"admin-notes"}, "config.minute": {"many"}}, ""},
			{"wrong_type_form", "POST", "/services", url.Values{"host": {"h.test"}, "port": {"eighty"}}, ""},
			{"too_many_args", "GET", "/consumers?" + strings.Repeat("a=1&", 1001), nil, ""},
			{"schema_not_found", "GET", "/schemas/nothing", nil, ""},
			{"plugin_schema_not_found", "GET", "/schemas/plugins/nothing", nil, ""},
		}
		for _, c := range cases {
			r := n.do(c.method, c.path, c.body, c.ctype)
			golden(t, c.name, r)
		}
		// nothing was written by the failed requests
		if got := data(n.must(200, "GET", "/consumers", nil)); len(got) != 1 {
			t.Fatalf("consumers: %v", got)
		}
		if got := data(n.must(200, "GET", "/services", nil)); len(got) != 0 {
			t.Fatalf("services: %v", got)
		}
		if got := data(n.must(200, "GET", "/plugins", nil)); len(got) != 0 {
			t.Fatalf("plugins: %v", got)
		}
	})
}
