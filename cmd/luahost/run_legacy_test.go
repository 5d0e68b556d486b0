package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/host/hosttest"
)

// consumerUpstream answers with the consumer and credential the plugin
// passed on.
func consumerUpstream(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "upstream consumer=%s", r.Header.Get("X-Consumer-ID"))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

// adminCall sends a JSON body (or none) to the Admin API and returns the
// status and the raw body.
func adminCall(t *testing.T, base, method, path string, body any) (int, string) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, base+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func jsonOf(t *testing.T, what, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("%s: not JSON: %q", what, s)
	}
	return m
}

// The 0.x-style apikey-0x (daos.lua in 0.x's form, the old DAO's
// find_by_keys, database_cache.get_or_set, hooks.lua, kong.tools.responses,
// a crud_helpers api.lua, migrations/postgres.lua) and the 2.x-style
// apikey-2x (BasePlugin, map daos.lua, kong.cache, an api.lua on kong.db,
// migrations with a cassandra section) beside the 3.x token-auth in one
// luahost, on each store: credentials made through their Admin APIs,
// requests through the proxy, and updates, deletes and a consumer's
// cascade delete invalidating what the plugins cached.
func TestRunLegacyPlugins(t *testing.T) {
	for _, strategy := range hosttest.Strategies {
		t.Run(strategy, func(t *testing.T) {
			c := pluginsConf()
			c.Set("admin_listen", "127.0.0.1:0", "test")
			if strategy == "postgres" {
				hosttest.UsePostgres(t, c)
			}
			upPort := consumerUpstream(t)
			sigs := make(chan os.Signal, 1)
			started := startNode(t, c, runOpts{signals: sigs})
			n := started.node
			h := n.Host
			proxy := "http://" + n.Server.Addrs[0].String()
			admin := "http://" + n.Admin.Addrs[0].String()

			svc := insert(t, h, "services", map[string]any{"protocol": "http", "host": "127.0.0.1", "port": float64(upPort)})
			r0 := insert(t, h, "routes", map[string]any{"paths": []any{"/v0"}, "service": ref(svc["id"])})
			r2 := insert(t, h, "routes", map[string]any{"paths": []any{"/v2"}, "service": ref(svc["id"])})
			r3 := insert(t, h, "routes", map[string]any{"paths": []any{"/v3"}, "service": ref(svc["id"])})
			insert(t, h, "plugins", map[string]any{"name": "apikey-0x", "route": ref(r0["id"]), "config": map[string]any{}})
			insert(t, h, "plugins", map[string]any{"name": "apikey-2x", "route": ref(r2["id"]), "config": map[string]any{}})
			insert(t, h, "plugins", map[string]any{"name": "token-auth", "route": ref(r3["id"]), "config": map[string]any{}})
			waitBuilt(t, n, 3, 3)

			code, body := adminCall(t, admin, "POST", "/consumers", map[string]any{"username": "alice"})
			if code != 201 {
				t.Fatalf("consumer: %d %s", code, body)
			}
			alice := jsonOf(t, "consumer", body)
			code, body = adminCall(t, admin, "POST", "/consumers", map[string]any{"username": "bob"})
			if code != 201 {
				t.Fatalf("consumer: %d %s", code, body)
			}
			bob := jsonOf(t, "consumer", body)

			// --- apikey-0x: crud_helpers on the Admin API
			code, body = adminCall(t, admin, "POST", "/consumers/alice/apikeys/", map[string]any{"apikey": "k0"})
			if code != 201 {
				t.Fatalf("crud.post: %d %s", code, body)
			}
			k0 := jsonOf(t, "crud.post", body)
			if k0["consumer_id"] != alice["id"] || k0["apikey"] != "k0" || k0["consumer"] != nil || !strings.HasSuffix(body, "}\n") {
				t.Fatalf("crud.post row (0.x form): %s", body)
			}
			if ms, _ := k0["created_at"].(float64); ms < 1e12 {
				t.Fatalf("created_at in ms: %v", k0["created_at"])
			}
			code, body = adminCall(t, admin, "POST", "/consumers/"+alice["id"].(string)+"/apikeys/", map[string]any{"apikey": "k0"})
			if code != 409 || body != `{"apikey":"already exists with value 'k0'"}`+"\n" {
				t.Fatalf("crud.post duplicate: %d %q", code, body)
			}
			code, body = adminCall(t, admin, "POST", "/consumers/alice/apikeys/", map[string]any{"apikey": "bad key!"})
			if code != 400 || body != `{"apikey":"apikey has an invalid value"}`+"\n" {
				t.Fatalf("crud.post invalid: %d %q", code, body)
			}
			code, body = adminCall(t, admin, "POST", "/consumers/nobody/apikeys/", map[string]any{"apikey": "zz"})
			if code != 404 || body != `{"message":"Not found"}`+"\n" {
				t.Fatalf("unknown consumer: %d %q", code, body)
			}
			for _, k := range []string{"k1", "k2"} {
				if code, body = adminCall(t, admin, "POST", "/consumers/alice/apikeys/", map[string]any{"apikey": k}); code != 201 {
					t.Fatalf("crud.post %s: %d %s", k, code, body)
				}
			}
			code, body = adminCall(t, admin, "GET", "/consumers/alice/apikeys/?size=2", nil)
			page := jsonOf(t, "paginated_set", body)
			next, _ := page["next"].(string)
			if code != 200 || page["total"] != 3.0 || len(page["data"].([]any)) != 2 || page["offset"] == nil ||
				!strings.HasPrefix(next, "http://") || !strings.Contains(next, "/consumers/alice/apikeys/?offset=") {
				t.Fatalf("paginated_set: %d %s", code, body)
			}
			code, body = adminCall(t, admin, "GET", strings.TrimPrefix(next, "http://"+n.Admin.Addrs[0].String()), nil)
			page = jsonOf(t, "paginated_set page 2", body)
			if code != 200 || page["total"] != 3.0 || len(page["data"].([]any)) != 1 || page["next"] != nil {
				t.Fatalf("paginated_set page 2: %d %s", code, body)
			}
			code, body = adminCall(t, admin, "GET", "/consumers/bob/apikeys/", nil)
			if code != 200 || body != `{"data":[],"total":0}`+"\n" {
				t.Fatalf("paginated_set empty: %d %q", code, body)
			}
			code, body = adminCall(t, admin, "GET", "/consumers/alice/apikeys/k0", nil)
			if code != 200 || jsonOf(t, "get", body)["id"] != k0["id"] {
				t.Fatalf("get: %d %s", code, body)
			}
			code, body = adminCall(t, admin, "GET", "/consumers/bob/apikeys/k0", nil)
			if code != 404 {
				t.Fatalf("another consumer's key: %d %s", code, body)
			}

			// --- apikey-0x through the proxy
			send := func(path string) answer { return request(t, proxy+path) }
			if a := send("/v0/x"); a.code != 401 || a.body != `{"message":"No API key found in request"}`+"\n" {
				t.Fatalf("no key: %d %q", a.code, a.body)
			}
			if a := send("/v0/x?apikey=nope"); a.code != 403 || a.body != `{"message":"Invalid authentication credentials"}`+"\n" {
				t.Fatalf("unknown key: %d %q", a.code, a.body)
			}
			if a := send("/v0/x?apikey=k0"); a.code != 200 || a.body != "upstream consumer="+alice["id"].(string) {
				t.Fatalf("k0: %d %q", a.code, a.body)
			}
			// crud.patch renames the key: hooks.lua drops the cached old one
			code, body = adminCall(t, admin, "PATCH", "/consumers/alice/apikeys/k0", map[string]any{"apikey": "k0b"})
			if code != 200 || jsonOf(t, "patch", body)["apikey"] != "k0b" {
				t.Fatalf("crud.patch: %d %s", code, body)
			}
			if a := send("/v0/x?apikey=k0"); a.code != 403 {
				t.Fatalf("renamed key still accepted: %d %q", a.code, a.body)
			}
			if a := send("/v0/x?apikey=k0b"); a.code != 200 {
				t.Fatalf("new key: %d %q", a.code, a.body)
			}
			// crud.delete: hooks.lua drops the cached key
			if code, body = adminCall(t, admin, "DELETE", "/consumers/alice/apikeys/k0b", nil); code != 204 || body != "" {
				t.Fatalf("crud.delete: %d %q", code, body)
			}
			if a := send("/v0/x?apikey=k0b"); a.code != 403 {
				t.Fatalf("deleted key still accepted: %d %q", a.code, a.body)
			}
			if code, _ = adminCall(t, admin, "DELETE", "/consumers/alice/apikeys/k0b", nil); code != 404 {
				t.Fatalf("delete again: %d", code)
			}

			// --- apikey-2x: its kong.db api.lua, kong.cache
			code, body = adminCall(t, admin, "POST", "/consumers/bob/apikeys2", map[string]any{"key": "b2"})
			if code != 201 {
				t.Fatalf("apikey-2x post: %d %s", code, body)
			}
			code, body = adminCall(t, admin, "POST", "/consumers/alice/apikeys2", map[string]any{"key": "b2"})
			if code != 409 {
				t.Fatalf("apikey-2x duplicate: %d %s", code, body)
			}
			if a := send("/v2/x"); a.code != 401 || a.body != `{"message":"No API key found in request"}` {
				t.Fatalf("2x no key: %d %q", a.code, a.body)
			}
			if a := send("/v2/x?apikey=b2"); a.code != 200 || a.body != "upstream consumer="+bob["id"].(string) {
				t.Fatalf("2x b2: %d %q", a.code, a.body)
			}
			code, body = adminCall(t, admin, "PATCH", "/consumers/bob/apikeys2/b2", map[string]any{"new_key": "b2b"})
			if code != 200 {
				t.Fatalf("apikey-2x patch: %d %s", code, body)
			}
			eventually(t, "the renamed 2.x key refused", func() bool { return send("/v2/x?apikey=b2").code == 403 })
			if a := send("/v2/x?apikey=b2b"); a.code != 200 {
				t.Fatalf("2x b2b: %d %q", a.code, a.body)
			}

			// --- the 3.x token-auth beside them
			insert(t, h, "token_credentials", map[string]any{"consumer": ref(bob["id"]), "key": "bob-token"})
			if a := request(t, proxy+"/v3/x", "X-Api-Token", "bob-token"); a.code != 200 {
				t.Fatalf("token-auth: %d %q", a.code, a.body)
			}

			// --- deleting a consumer cascades to both plugins' keys: each
			// deleted apikeys row reaches hooks.lua as ENTITY_DELETED
			code, body = adminCall(t, admin, "POST", "/consumers/bob/apikeys/", map[string]any{"apikey": "bk"})
			if code != 201 {
				t.Fatalf("bob's key: %d %s", code, body)
			}
			if a := send("/v0/x?apikey=bk"); a.code != 200 {
				t.Fatalf("bk: %d %q", a.code, a.body)
			}
			if code, body = adminCall(t, admin, "DELETE", "/consumers/bob", nil); code != 204 {
				t.Fatalf("delete bob: %d %s", code, body)
			}
			// the ENTITY_DELETED events reach hooks.lua in the worker that
			// receives them, between its requests (as Kong's worker events
			// do): another worker may serve a request before that
			eventually(t, "a deleted consumer's 0.x key refused", func() bool { return send("/v0/x?apikey=bk").code == 403 })
			eventually(t, "a deleted consumer's 2.x key refused", func() bool { return send("/v2/x?apikey=b2b").code == 403 })

			sigs <- syscall.SIGTERM
			if code := <-started.code; code != 0 {
				t.Fatalf("exit %d: %s", code, started.stderr.String())
			}
		})
	}
}

// A write on another node reaches this node's hooks.lua through
// cluster_events (0.x sent it through Serf): the other node's update of a
// key, and its delete, evict what apikey-0x cached here under
// "apikeys.<key>" (a name Kong 3's cache_key invalidation knows nothing of).
func TestRunLegacyHooksAcrossNodes(t *testing.T) {
	c := pluginsConf()
	hosttest.UsePostgres(t, c)
	upPort := consumerUpstream(t)
	sigs := make(chan os.Signal, 1)
	started := startNode(t, c, runOpts{signals: sigs})
	n := started.node
	proxy := "http://" + n.Server.Addrs[0].String()

	c2 := pluginsConf()
	for _, k := range []string{"database", "pg_host", "pg_port", "pg_user", "pg_password", "pg_database"} {
		c2.Set(k, c.Get(k), "test")
	}
	other, err := host.New(host.Options{Conf: c2, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	svc := insert(t, other, "services", map[string]any{"protocol": "http", "host": "127.0.0.1", "port": float64(upPort)})
	route := insert(t, other, "routes", map[string]any{"paths": []any{"/v0"}, "service": ref(svc["id"])})
	carol := insert(t, other, "consumers", map[string]any{"username": "carol"})
	key := insert(t, other, "apikeys", map[string]any{"consumer": ref(carol["id"]), "apikey": "ck"})
	insert(t, other, "plugins", map[string]any{"name": "apikey-0x", "route": ref(route["id"]), "config": map[string]any{}})
	waitBuilt(t, n, 1, 1)

	if a := request(t, proxy+"/v0/x?apikey=ck"); a.code != 200 || a.body != "upstream consumer="+carol["id"].(string) {
		t.Fatalf("ck: %d %q", a.code, a.body)
	}
	ctx := context.Background()
	if _, err := other.Root.DB.DAO("apikeys").Update(ctx, ref(key["id"]), map[string]any{"apikey": "ck2"}, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the key renamed on the other node refused here", func() bool {
		return request(t, proxy+"/v0/x?apikey=ck").code == 403
	})
	if a := request(t, proxy+"/v0/x?apikey=ck2"); a.code != 200 {
		t.Fatalf("ck2: %d %q", a.code, a.body)
	}
	if _, err := other.Root.DB.DAO("apikeys").Delete(ctx, ref(key["id"]), nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the key deleted on the other node refused here", func() bool {
		return request(t, proxy+"/v0/x?apikey=ck2").code == 403
	})
	sigs <- syscall.SIGTERM
	if code := <-started.code; code != 0 {
		t.Fatalf("exit %d: %s", code, started.stderr.String())
	}
}
