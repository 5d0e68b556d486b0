package declarative_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/declarative"
	"github.com/luahost/luahost/kongdb/memory"
	"github.com/luahost/luahost/kongdb/migrations/migrationstest"
)

func post(t *testing.T, srv *httptest.Server, query, ctype, body string) (int, map[string]any) {
	t.Helper()
	res, err := http.Post(srv.URL+"/config"+query, ctype, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%d %s: %v", res.StatusCode, b, err)
		}
	}
	return res.StatusCode, m
}

// POST /config replaces the embedded store's contents (201 with the
// entities), lists errors in Kong's shape (flattened on request), answers
// 304 for the configuration already loaded; GET /config exports.
func TestConfigEndpoint(t *testing.T) {
	db := kongdb.New(memory.New(), kongdb.DBOptions{})
	withTokenAuth(t, db)
	h := declarative.NewHandler(db)
	reloads := 0
	h.Reloaded = func() { reloads++ }
	srv := httptest.NewServer(h)
	defer srv.Close()

	code, body := post(t, srv, "", "text/yaml", kongYML)
	if reloads != 1 {
		t.Errorf("Reloaded ran %d times", reloads)
	}
	if code != 201 {
		t.Fatalf("%d %v", code, body)
	}
	svcs, _ := body["services"].(map[string]any)
	if len(svcs) != 1 || len(body["token_credentials"].(map[string]any)) != 2 {
		t.Errorf("body: %v", body)
	}
	if code, _ := post(t, srv, "?check_hash=1", "text/yaml", kongYML); code != 304 {
		t.Errorf("check_hash: %d", code)
	}

	// a JSON body: the configuration itself, replacing the previous one
	code, body = post(t, srv, "", "application/json",
		`{"_format_version":"3.0","consumers":[{"username":"zed"}]}`)
	if code != 201 {
		t.Fatalf("%d %v", code, body)
	}
	if n := count(t, db, "services"); n != 0 {
		t.Errorf("services left after replace: %d", n)
	}
	if n := count(t, db, "token_credentials"); n != 0 {
		t.Errorf("credentials left after replace: %d", n)
	}
	if n := count(t, db, "consumers"); n != 1 {
		t.Errorf("consumers: %d", n)
	}

	// form body with config=<yaml>, errors flattened
	form := url.Values{"config": {"_format_version: \"3.0\"\nservices:\n- name: bad\n  host: h\n  port: -1\n  routes:\n  - name: r\n    protocols: [nope]\n"},
		"flatten_errors": {"1"}}
	code, body = post(t, srv, "", "application/x-www-form-urlencoded", form.Encode())
	if code != 400 || body["code"] != float64(14) || body["name"] != "invalid declarative configuration" {
		t.Fatalf("%d %v", code, body)
	}
	fl, _ := body["flattened_errors"].([]any)
	if len(fl) != 2 {
		t.Fatalf("flattened: %v", body)
	}
	first := fl[0].(map[string]any)
	if first["entity_type"] != "service" || first["entity_name"] != "bad" {
		t.Errorf("flattened[0]: %v", first)
	}
	errs := first["errors"].([]any)
	if e := errs[0].(map[string]any); e["type"] != "field" || e["field"] != "port" || e["message"] != "value should be between 0 and 65535" {
		t.Errorf("flattened[0].errors: %v", errs)
	}
	if second := fl[1].(map[string]any); second["entity_type"] != "route" {
		t.Errorf("flattened[1]: %v", second)
	}
	fields := body["fields"].(map[string]any)
	if _, ok := fields["services"].([]any); !ok {
		t.Errorf("fields: %v", fields)
	}
	if n := count(t, db, "consumers"); n != 1 {
		t.Errorf("a bad config changed the store: %d consumers", n)
	}

	if code, body := post(t, srv, "", "application/json", `{"_format_version":`); code != 400 || body["message"] != "Cannot parse JSON body" {
		t.Errorf("bad json: %d %v", code, body)
	}
	if code, body := post(t, srv, "", "application/json", `{}`); code != 400 || body["message"] != "expected a declarative configuration" {
		t.Errorf("empty: %d %v", code, body)
	}

	res, err := http.Get(srv.URL + "/config")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	_ = json.NewDecoder(res.Body).Decode(&got)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(got["config"], "username: zed") {
		t.Errorf("GET: %d %v", res.StatusCode, got)
	}
}

// Deeply nested JSON bodies and SQL/NUL-laden values get Kong's 400, and
// the store is untouched; on PostgreSQL /config is refused as in Kong.
func TestConfigEndpointBadBodies(t *testing.T) {
	db := kongdb.New(memory.New(), kongdb.DBOptions{})
	srv := httptest.NewServer(declarative.NewHandler(db))
	defer srv.Close()
	deep := `{"_format_version":"3.0","consumers":[{"username":"a","tags":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}]}`
	code, body := post(t, srv, "", "application/json", deep)
	if code != 400 || body["code"] != float64(14) || !strings.Contains(body["message"].(string), "nested deeper than 64 levels") {
		t.Errorf("deep: %d %v", code, body)
	}
	code, body = post(t, srv, "", "application/json",
		`{"_format_version":"3.0","consumers":[{"username":"x\u0000'; DROP TABLE consumers;--","custom_id":{"a":1}}]}`)
	if code != 400 || !strings.Contains(body["message"].(string), "custom_id") {
		t.Errorf("bad values: %d %v", code, body)
	}
	if n := count(t, db, "consumers"); n != 0 {
		t.Errorf("%d consumers written", n)
	}
}

// With a database, /config answers as Kong's does: 400, only for DB-less.
func TestConfigEndpointNeedsEmbeddedStore(t *testing.T) {
	db := kongdb.New(migrationstest.Connector(t), kongdb.DBOptions{})
	defer db.Close()
	srv := httptest.NewServer(declarative.NewHandler(db))
	defer srv.Close()
	code, body := post(t, srv, "", "text/yaml", kongYML)
	if code != 400 || body["message"] != "this endpoint is only available when Kong is configured to not use a database" {
		t.Errorf("%d %v", code, body)
	}
}
