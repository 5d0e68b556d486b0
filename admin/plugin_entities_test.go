package admin

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/host/hosttest"
)

// Every generated endpoint shape of token-auth's token_credentials
// (admin_api_name "token-auths", admin_api_nested_name "token-auth",
// endpoint_key "key", ttl).
func TestTokenAuthEndpoints(t *testing.T) {
	eachStore(t, func(t *testing.T, n *node) {
		bob := n.must(201, "POST", "/consumers", M{"username": "bob"})
		n.must(201, "POST", "/consumers", M{"username": "eve"})
		// nested collection: POST, GET
		c1 := n.must(201, "POST", "/consumers/bob/token-auth", M{"key": "k1", "label": "one"})
		if c1["consumer"].(map[string]any)["id"] != bob["id"] {
			t.Fatal(c1)
		}
		auto := n.must(201, "POST", "/consumers/"+str(bob["id"])+"/token-auth", M{})
		if str(auto["key"]) == "" {
			t.Fatalf("auto key: %v", auto)
		}
		if got := data(n.must(200, "GET", "/consumers/bob/token-auth", nil)); len(got) != 2 {
			t.Fatal(got)
		}
		if got := data(n.must(200, "GET", "/consumers/eve/token-auth", nil)); len(got) != 0 {
			t.Fatal(got)
		}
		// top-level collection
		if got := data(n.must(200, "GET", "/token-auths", nil)); len(got) != 2 {
			t.Fatal(got)
		}
		n.must(201, "POST", "/token-auths", M{"key": "k3", "consumer": M{"username": "eve"}})
		// entity by id and by endpoint key
		if got := n.must(200, "GET", "/token-auths/"+str(c1["id"]), nil); got["key"] != "k1" {
			t.Fatal(got)
		}
		if got := n.must(200, "GET", "/token-auths/k1", nil); got["id"] != c1["id"] {
			t.Fatal(got)
		}
		// the referenced consumer
		if got := n.must(200, "GET", "/token-auths/k1/consumer", nil); got["username"] != "bob" {
			t.Fatal(got)
		}
		// nested entity: only under its own consumer
		if got := n.must(200, "GET", "/consumers/bob/token-auth/k1", nil); got["label"] != "one" {
			t.Fatal(got)
		}
		n.must(404, "GET", "/consumers/eve/token-auth/k1", nil)
		if got := n.must(200, "PATCH", "/consumers/bob/token-auth/k1", M{"label": "uno"}); got["label"] != "uno" {
			t.Fatal(got)
		}
		n.must(404, "PATCH", "/consumers/eve/token-auth/k1", M{"label": "stolen"})
		// PUT by endpoint key creates, then replaces
		put := n.must(200, "PUT", "/consumers/eve/token-auth/k4", M{"label": "four"})
		if put["key"] != "k4" || put["label"] != "four" {
			t.Fatal(put)
		}
		if got := n.must(200, "PUT", "/token-auths/k4", M{"consumer": M{"id": bob["id"]}}); got["label"] != nil {
			t.Fatalf("PUT replaces: %v", got)
		}
		if got := n.must(200, "PATCH", "/token-auths/k4", M{"label": "p"}); got["label"] != "p" {
			t.Fatal(got)
		}
		// ttl (schema.ttl = true) goes to the options, not the entity
		tl := n.must(201, "POST", "/consumers/bob/token-auth", M{"key": "short", "ttl": 100})
		if ttl, _ := tl["ttl"].(float64); ttl <= 0 || ttl > 100 {
			t.Fatalf("ttl: %v", tl)
		}
		// unique violation, foreign key on a missing consumer
		n.must(409, "POST", "/consumers/bob/token-auth", M{"key": "k1"})
		n.must(404, "POST", "/consumers/nobody/token-auth", M{"key": "x"})
		// deletes
		n.must(204, "DELETE", "/consumers/bob/token-auth/k1", nil)
		n.must(404, "GET", "/token-auths/k1", nil)
		n.must(404, "DELETE", "/consumers/eve/token-auth/k4", nil) // k4 is bob's now
		n.must(204, "DELETE", "/token-auths/k4", nil)
		n.must(405, "DELETE", "/token-auths/k3/consumer", nil)
		// cascade: bob's credentials go with bob
		n.must(204, "DELETE", "/consumers/bob", nil)
		if got := data(n.must(200, "GET", "/token-auths", nil)); len(got) != 1 || got[0].(map[string]any)["key"] != "k3" {
			t.Fatal(got)
		}
	})
}

// /cache/{key} answers what kong.cache holds, and 404 once a write
// invalidated it (the credential's cache_key) or DELETE /cache/{key} did.
func TestCacheEndpoints(t *testing.T) {
	eachStore(t, func(t *testing.T, n *node) {
		n.must(201, "POST", "/consumers", M{"username": "bob"})
		n.must(201, "POST", "/consumers/bob/token-auth", M{"key": "k1"})
		load := func(chunk string) {
			t.Helper()
			err := n.h.Pool.AcquireFunc(context.Background(), func(w *host.Worker) error {
				return w.DoString("load", chunk)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		// the token-auth handler's lookup, as a request would do it
		load(`
			local key = kong.db.token_credentials:cache_key("k1")
			assert(kong.cache:get(key, nil, function() return kong.db.token_credentials:select_by_key("k1") end))
			assert(kong.cache:get("plain", nil, function() return "text" end))`)
		ck := "token_credentials:k1:::::"
		// the workspace segment: whatever the DAO says
		load(`assert(kong.db.token_credentials:cache_key("k1"))`)
		var key string
		if err := n.h.Pool.AcquireFunc(context.Background(), func(w *host.Worker) error {
			if err := w.DoString("ck", `_G.__ck = kong.db.token_credentials:cache_key("k1")`); err != nil {
				return err
			}
			key = w.L.GetGlobal("__ck").String()
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(key) <= len(ck) || key[:len(ck)] != ck {
			t.Fatalf("cache key %q", key)
		}
		got := n.must(200, "GET", "/cache/"+key, nil)
		if got["key"] != "k1" {
			t.Fatalf("cached credential: %v", got)
		}
		if got := n.must(200, "GET", "/cache/plain", nil); got["message"] != "text" {
			t.Fatal(got)
		}
		n.must(404, "GET", "/cache/never-cached", nil)
		// a write through the Admin API invalidates the credential's key
		n.must(200, "PATCH", "/token-auths/k1", M{"label": "changed"})
		n.must(404, "GET", "/cache/"+key, nil)
		// DELETE /cache/{key}, DELETE /cache
		n.must(204, "DELETE", "/cache/plain", nil)
		n.must(404, "GET", "/cache/plain", nil)
		load(`assert(kong.cache:get("again", nil, function() return { a = 1 } end))`)
		n.must(200, "GET", "/cache/again", nil)
		n.must(204, "DELETE", "/cache", nil)
		n.must(404, "GET", "/cache/again", nil)
	})
}

func TestIntrospection(t *testing.T) {
	eachStore(t, func(t *testing.T, n *node) {
		s := n.must(200, "GET", "/schemas/services", nil)
		fields, _ := s["fields"].([]any)
		if len(fields) < 10 {
			t.Fatal(s)
		}
		found := false
		for _, f := range fields {
			if h, ok := f.(map[string]any)["host"].(map[string]any); ok && h["type"] == "string" && h["required"] == true {
				found = true
			}
		}
		if !found {
			t.Fatalf("host field: %v", fields)
		}
		if got := n.must(200, "GET", "/schemas/token_credentials", nil); got["fields"] == nil {
			t.Fatal(got)
		}
		p := n.must(200, "GET", "/schemas/plugins/token-auth", nil)
		if !containsField(p["fields"], "config") {
			t.Fatal(p)
		}
		if got := n.must(200, "POST", "/schemas/services/validate", M{"host": "x.test"}); got["message"] != "schema validation successful" {
			t.Fatal(got)
		}
		bad := n.must(400, "POST", "/schemas/services/validate", M{"host": "x.test", "port": -1})
		if bad["name"] != "schema violation" {
			t.Fatal(bad)
		}
		n.must(200, "POST", "/schemas/plugins/validate", M{"name": "token-auth", "config": M{"header_name": "x"}})
		bad = n.must(400, "POST", "/schemas/plugins/validate", M{"name": "token-auth", "config": M{"nope": 1}})
		if bad["fields"].(map[string]any)["config"] == nil {
			t.Fatal(bad)
		}
		n.must(404, "POST", "/schemas/nothing/validate", M{})
		en := n.must(200, "GET", "/plugins/enabled", nil)
		if !containsString(en["enabled_plugins"], "token-auth") || !containsString(en["enabled_plugins"], "admin-notes") {
			t.Fatal(en)
		}
		root := n.must(200, "GET", "/", nil)
		if root["tagline"] != "Welcome to kong" || root["version"] == "" {
			t.Fatal(root)
		}
		st := n.must(200, "GET", "/status", nil)
		if st["database"].(map[string]any)["reachable"] != true {
			t.Fatal(st)
		}
		n.must(201, "POST", "/consumers", M{"username": "t", "tags": []string{"blue"}})
		tags := n.must(200, "GET", "/tags/blue", nil)
		if d := data(tags); len(d) != 1 || d[0].(map[string]any)["entity_name"] != "consumers" {
			t.Fatal(tags)
		}
	})
}

func containsField(v any, name string) bool {
	list, _ := v.([]any)
	for _, f := range list {
		if _, ok := f.(map[string]any)[name]; ok {
			return true
		}
	}
	return false
}

func containsString(v any, s string) bool {
	list, _ := v.([]any)
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// A write giving a deprecated field a value other than its old default
// logs Kong's deprecation warning ("<message> (deprecated after <v>)");
// the old default, or no value, logs none.
func TestDeprecatedFieldWarns(t *testing.T) {
	var logs safeBuffer
	h, err := host.New(host.Options{Conf: testConf(), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	s, err := New(Options{Host: h, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	n := serveAdmin(t, h, s)
	const warning = "admin-notes: config.old_size is deprecated (deprecated after 9.0)"
	for _, c := range []struct {
		config map[string]any
		warns  bool
	}{
		{map[string]any{}, false},
		{map[string]any{"old_size": 1}, false},
		{map[string]any{"old_size": 2}, true},
	} {
		before := strings.Count(logs.String(), warning)
		r := n.do("POST", "/plugins", map[string]any{"name": "admin-notes", "config": c.config})
		if r.Status != 201 {
			t.Fatalf("POST %v: %d %s", c.config, r.Status, r.Raw)
		}
		n.do("DELETE", "/plugins/"+r.Body["id"].(string), nil)
		if warned := strings.Count(logs.String(), warning) > before; warned != c.warns {
			t.Errorf("config %v: warned %v, want %v; logs:\n%s", c.config, warned, c.warns, logs.String())
		}
	}
}

// A value for a deprecated shorthand field is logged as Kong's
// kong.deprecation writes it, and translated to its replacement.
func TestDeprecatedShorthandLogged(t *testing.T) {
	hosttest.EachStrategy(t, testConf, func(t *testing.T, h *host.Host) {
		var logs safeBuffer
		s, err := New(Options{Host: h, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		n := serveAdmin(t, h, s)
		p := n.must(201, "POST", "/plugins", M{"name": "admin-notes", "config": M{"per_minute": 7}})
		if got := p["config"].(map[string]any)["minute"]; got != 7.0 {
			t.Fatalf("minute: %v", got)
		}
		want := "admin-notes: config.per_minute is deprecated, please use config.minute instead (deprecated after 4.0)"
		if out := logs.String(); !strings.Contains(out, want) || !strings.Contains(out, "level=WARN") {
			t.Fatalf("log:\n%s", out)
		}
		logs.Reset()
		n.must(200, "PATCH", "/plugins/"+str(p["id"]), M{"config": M{"minute": 8}})
		if out := logs.String(); strings.Contains(out, "deprecated") {
			t.Fatalf("no deprecated field given, yet:\n%s", out)
		}
	})
}

// safeBuffer is a bytes.Buffer for a logger written from several
// goroutines.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *safeBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}
