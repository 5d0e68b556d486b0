package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/host/hosttest"
)

// pluginsConf is a node with the example plugins and the host's test
// plugins (host/testdata/iter).
func pluginsConf() *conf.Config {
	c := conf.New()
	c.Append("plugins_dir", "../../plugins", "test")
	c.Append("plugins_dir", "../../host/testdata/iter", "test")
	c.Set("lua_package_path", "", "test")
	c.Set("mem_cache_size", "4m", "test")
	c.Set("log_level", "error", "test")
	c.Set("proxy_listen", "127.0.0.1:0", "test")
	// (not Kong's default 127.0.0.1:8001, which another process may hold)
	c.Set("admin_listen", "off", "test")
	// long: loading the example plugins under -race on a loaded machine
	// took more than 500 ms; the runaway-handler tests set spinTimeout
	c.Set("lua_timeout", "20000", "test")
	c.Set("worker_max", "2", "test")
	return c
}

// spinTimeout is the lua_timeout of the tests whose plugin loops forever:
// short enough to wait for, long enough to load the plugins under load.
const spinTimeout = "3000"

// headersUpstream answers with what the plugins may have set or hidden.
func headersUpstream(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "upstream %s token=%s consumer=%s", r.URL.Path, r.Header.Get("X-Api-Token"), r.Header.Get("X-Consumer-Username"))
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

type answer struct {
	code   int
	body   string
	header http.Header
}

func request(t *testing.T, url string, headers ...string) answer {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	client := &http.Client{Timeout: 30 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, string(b), res.Header}
}

// eventually polls fn (an observable condition) until it holds, or fails
// at a generous deadline.
func eventually(t *testing.T, what string, fn func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !fn() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(10 * time.Millisecond) // polling interval
	}
}

// waitBuilt waits until the node's router has routes routes and its plugin
// iterator configs configurations (both are rebuilt asynchronously).
func waitBuilt(t *testing.T, n *node, routes, configs int) {
	t.Helper()
	eventually(t, fmt.Sprintf("%d routes and %d plugin configurations built", routes, configs), func() bool {
		r, _ := n.Router.Load()
		it := n.Runloop.Iterator()
		return r != nil && r.Len() == routes && it != nil && len(it.Configs) == configs
	})
}

func insert(t *testing.T, h *host.Host, dao string, row map[string]any) map[string]any {
	t.Helper()
	out, err := h.Root.DB.DAO(dao).Insert(context.Background(), row, nil)
	if err != nil {
		t.Fatalf("insert %s: %v", dao, err)
	}
	return out
}

func ref(id any) map[string]any { return map[string]any{"id": id} }

// The example plugins through `luahost run` on each store: token-auth
// answers Kong's 401s, lets the right key through with the credential
// hidden from the upstream and the consumer known to the plugins after
// it; response-stamp's configuration is the global one, the route's, or
// the consumer's, by Kong's precedence; deleting the credential through
// kong.db invalidates the cached one.
func TestRunExamplePlugins(t *testing.T) {
	for _, strategy := range hosttest.Strategies {
		t.Run(strategy, func(t *testing.T) {
			c := pluginsConf()
			if strategy == "postgres" {
				hosttest.UsePostgres(t, c)
			}
			upPort := headersUpstream(t)
			sigs := make(chan os.Signal, 1)
			started := startNode(t, c, runOpts{signals: sigs})
			n := started.node
			h := n.Host
			base := "http://" + n.Server.Addrs[0].String()

			svc := insert(t, h, "services", map[string]any{"protocol": "http", "host": "127.0.0.1", "port": float64(upPort)})
			insert(t, h, "routes", map[string]any{"paths": []any{"/open"}, "service": ref(svc["id"])})
			authed := insert(t, h, "routes", map[string]any{"paths": []any{"/authed"}, "service": ref(svc["id"])})
			alice := insert(t, h, "consumers", map[string]any{"username": "alice"})
			cred := insert(t, h, "token_credentials", map[string]any{"consumer": ref(alice["id"]), "key": "alice-key"})
			insert(t, h, "plugins", map[string]any{"name": "response-stamp", "config": map[string]any{"prefix": "global"}})
			insert(t, h, "plugins", map[string]any{"name": "response-stamp", "route": ref(authed["id"]), "config": map[string]any{"prefix": "route"}})
			insert(t, h, "plugins", map[string]any{"name": "response-stamp", "consumer": ref(alice["id"]), "config": map[string]any{"prefix": "consumer"}})
			insert(t, h, "plugins", map[string]any{"name": "token-auth", "route": ref(authed["id"]), "config": map[string]any{"hide_credentials": true}})
			insert(t, h, "plugins", map[string]any{"name": "consumer-header", "route": ref(authed["id"]), "config": map[string]any{}})
			waitBuilt(t, n, 2, 5)

			stamp := func(a answer) string {
				p, _, _ := strings.Cut(a.header.Get("X-Luahost-Stamp"), " ")
				return p
			}
			if a := request(t, base+"/open/x"); a.code != 200 || stamp(a) != "global" || a.body != "upstream /x token= consumer=" {
				t.Errorf("open route: %d %q stamp %q", a.code, a.body, stamp(a))
			}
			a := request(t, base+"/authed/x")
			if a.code != 401 || a.body != `{"message":"No API token found in request"}` || stamp(a) != "route" {
				t.Errorf("no token: %d %q stamp %q", a.code, a.body, stamp(a))
			}
			a = request(t, base+"/authed/x", "X-Api-Token", "wrong")
			if a.code != 401 || a.body != `{"message":"Invalid authentication credentials"}` || stamp(a) != "route" {
				t.Errorf("wrong token: %d %q stamp %q", a.code, a.body, stamp(a))
			}
			a = request(t, base+"/authed/x", "X-Api-Token", "alice-key")
			if a.code != 200 || a.body != "upstream /x token= consumer=alice" || stamp(a) != "consumer" {
				t.Errorf("alice: %d %q stamp %q", a.code, a.body, stamp(a))
			}

			if _, err := h.Root.DB.DAO("token_credentials").Delete(context.Background(), ref(cred["id"]), nil); err != nil {
				t.Fatal(err)
			}
			eventually(t, "the deleted credential refused", func() bool {
				a := request(t, base+"/authed/x", "X-Api-Token", "alice-key")
				return a.code == 401 && a.body == `{"message":"Invalid authentication credentials"}`
			})

			sigs <- syscall.SIGTERM
			if code := <-started.code; code != 0 {
				t.Fatalf("exit %d: %s", code, started.stderr.String())
			}
		})
	}
}

// Two nodes on one PostgreSQL: the route, the plugin and the credential
// written through the other node reach this one (router and plugin
// iterator rebuilt through cluster events), and the other node's delete of
// the credential evicts this node's cached copy.
func TestRunPluginsAcrossNodes(t *testing.T) {
	c := pluginsConf()
	hosttest.UsePostgres(t, c)
	upPort := headersUpstream(t)
	sigs := make(chan os.Signal, 1)
	started := startNode(t, c, runOpts{signals: sigs})
	n := started.node
	base := "http://" + n.Server.Addrs[0].String()

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
	route := insert(t, other, "routes", map[string]any{"paths": []any{"/remote"}, "service": ref(svc["id"])})
	bob := insert(t, other, "consumers", map[string]any{"username": "bob"})
	cred := insert(t, other, "token_credentials", map[string]any{"consumer": ref(bob["id"]), "key": "bob-key"})
	insert(t, other, "plugins", map[string]any{"name": "token-auth", "route": ref(route["id"]), "config": map[string]any{}})
	insert(t, other, "plugins", map[string]any{"name": "consumer-header", "route": ref(route["id"]), "config": map[string]any{}})
	waitBuilt(t, n, 1, 2)

	if a := request(t, base+"/remote/x", "X-Api-Token", "bob-key"); a.code != 200 || a.body != "upstream /x token=bob-key consumer=bob" {
		t.Fatalf("bob: %d %q", a.code, a.body)
	}
	if _, err := other.Root.DB.DAO("token_credentials").Delete(context.Background(), ref(cred["id"]), nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the credential deleted on the other node refused here", func() bool {
		a := request(t, base+"/remote/x", "X-Api-Token", "bob-key")
		return a.code == 401 && a.body == `{"message":"Invalid authentication credentials"}`
	})
	sigs <- syscall.SIGTERM
	if code := <-started.code; code != 0 {
		t.Fatalf("exit %d: %s", code, started.stderr.String())
	}
}

// traceOf returns and clears the trace the test plugins wrote into
// ngx.shared.kong, once their log phase wrote logs entries (log may run
// after the response was sent).
func traceOf(t *testing.T, n *node, logs int) string {
	t.Helper()
	d := n.Host.Root.SharedDict("kong")
	var s string
	eventually(t, fmt.Sprintf("%d log entries in the trace", logs), func() bool {
		v, _ := d.Get("trace")
		s, _ = v.(string)
		return strings.Count(s, ":log:") >= logs
	})
	d.Delete("trace")
	return s
}

// Phases through `luahost run` on each store: their order; an exit in
// rewrite skips access (the filters and log run the global plugins); a
// plugin failing in access, and one looping forever, cost their request a
// 500 and the next requests are served.
func TestRunPluginPhases(t *testing.T) {
	for _, strategy := range hosttest.Strategies {
		t.Run(strategy, func(t *testing.T) {
			c := pluginsConf()
			c.Set("lua_timeout", spinTimeout, "test")
			if strategy == "postgres" {
				hosttest.UsePostgres(t, c)
			}
			upPort := headersUpstream(t)
			sigs := make(chan os.Signal, 1)
			started := startNode(t, c, runOpts{signals: sigs})
			n := started.node
			h := n.Host
			base := "http://" + n.Server.Addrs[0].String()

			svc := insert(t, h, "services", map[string]any{"protocol": "http", "host": "127.0.0.1", "port": float64(upPort)})
			ok := insert(t, h, "routes", map[string]any{"paths": []any{"/t"}, "service": ref(svc["id"])})
			fail := insert(t, h, "routes", map[string]any{"paths": []any{"/fail"}, "service": ref(svc["id"])})
			spin := insert(t, h, "routes", map[string]any{"paths": []any{"/spin"}, "service": ref(svc["id"])})
			insert(t, h, "plugins", map[string]any{"name": "exit-rewrite", "config": map[string]any{}})
			insert(t, h, "plugins", map[string]any{"name": "trace-b", "route": ref(ok["id"]), "config": map[string]any{"tag": "t"}})
			insert(t, h, "plugins", map[string]any{"name": "trace-a", "route": ref(fail["id"]), "config": map[string]any{"tag": "fail", "fail": true}})
			insert(t, h, "plugins", map[string]any{"name": "trace-a", "route": ref(spin["id"]), "config": map[string]any{"tag": "spin", "spin": true}})
			waitBuilt(t, n, 3, 4)

			if a := request(t, base+"/t/x"); a.code != 200 || a.body != "upstream /x token= consumer=" {
				t.Errorf("/t: %d %q", a.code, a.body)
			}
			want := "exit-rewrite:rewrite:nil exit-rewrite:access:nil trace-b:access:t " +
				"exit-rewrite:header_filter:nil trace-b:header_filter:t trace-b:body_filter:t " +
				"exit-rewrite:log:nil trace-b:log:t"
			if got := traceOf(t, n, 2); got != want {
				t.Errorf("trace\n got %s\nwant %s", got, want)
			}

			a := request(t, base+"/t/x", "X-Exit-Early", "1")
			if a.code != 418 || a.body != `{"message":"answered in rewrite"}` {
				t.Errorf("exit in rewrite: %d %q", a.code, a.body)
			}
			if got := traceOf(t, n, 1); got != "exit-rewrite:rewrite:nil exit-rewrite:header_filter:nil exit-rewrite:log:nil" {
				t.Errorf("exit in rewrite ran: %s", got)
			}

			for _, path := range []string{"/fail", "/spin"} {
				a := request(t, base+path)
				// kong.response.error(500, "An unexpected error occurred")
				if a.code != 500 || a.body != "{\n  \"message\":\"An unexpected error occurred\",\n  \"request_id\":\""+
					a.header.Get("X-Kong-Request-Id")+"\"\n}" {
					t.Errorf("%s: %d %q", path, a.code, a.body)
				}
				if a := request(t, base+"/t/y"); a.code != 200 {
					t.Errorf("request after %s: %d %q", path, a.code, a.body)
				}
			}
			sigs <- syscall.SIGTERM
			if code := <-started.code; code != 0 {
				t.Fatalf("exit %d: %s", code, started.stderr.String())
			}
		})
	}
}
