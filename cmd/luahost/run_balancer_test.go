package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/host/hosttest"
)

// A Service whose host names an upstream is balanced over the targets the
// Admin API gives it, and follows their changes (the balancers rebuilt on
// upstreams and targets events); /upstreams/:u/health reads the balancer.
func TestRunBalancer(t *testing.T) {
	for _, strategy := range hosttest.Strategies {
		t.Run(strategy, func(t *testing.T) {
			target := func(name string) *httptest.Server {
				s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					io.WriteString(w, name)
				}))
				t.Cleanup(s.Close)
				return s
			}
			a, b := target("a"), target("b")
			c := conf.New()
			c.Append("plugins_dir", "../../plugins", "test")
			c.Set("lua_package_path", "", "test")
			c.Set("mem_cache_size", "4m", "test")
			c.Set("log_level", "error", "test")
			c.Set("proxy_listen", "127.0.0.1:0", "test")
			c.Set("admin_listen", "127.0.0.1:0", "test")
			if strategy == "postgres" {
				hosttest.UsePostgres(t, c)
			}
			sigs := make(chan os.Signal, 1)
			n := startNode(t, c, runOpts{signals: sigs})
			admin := "http://" + n.Admin.Addrs[0].String()
			call := func(want int, method, path string, form url.Values) map[string]any {
				t.Helper()
				req, _ := http.NewRequest(method, admin+path, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				raw, _ := io.ReadAll(res.Body)
				if res.StatusCode != want {
					t.Fatalf("%s %s: %d, want %d: %s", method, path, res.StatusCode, want, raw)
				}
				var m map[string]any
				json.Unmarshal(raw, &m)
				return m
			}
			host := func(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "http://") }
			call(201, "POST", "/upstreams", url.Values{"name": {"up.test"}})
			call(201, "POST", "/upstreams/up.test/targets", url.Values{"target": {host(a)}})
			call(201, "POST", "/upstreams/up.test/targets", url.Values{"target": {host(b)}})
			call(201, "POST", "/services", url.Values{"name": {"svc"}, "host": {"up.test"}})
			call(201, "POST", "/services/svc/routes", url.Values{"paths[]": {"/b"}})

			proxy := "http://" + n.Server.Addrs[0].String() + "/b"
			// poll until both targets answer (the router and the balancers
			// are rebuilt in the background)
			served := func(want map[string]bool) {
				t.Helper()
				deadline := time.Now().Add(10 * time.Second)
				for {
					got := map[string]bool{}
					for i := 0; i < 8; i++ {
						res, err := http.Get(proxy)
						if err != nil {
							t.Fatal(err)
						}
						body, _ := io.ReadAll(res.Body)
						res.Body.Close()
						if res.StatusCode == 200 {
							got[string(body)] = true
						}
					}
					if len(got) == len(want) && got["a"] == want["a"] && got["b"] == want["b"] {
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("served by %v, want %v", got, want)
					}
					time.Sleep(20 * time.Millisecond) // polling, with a deadline
				}
			}
			served(map[string]bool{"a": true, "b": true})
			h := call(200, "GET", "/upstreams/up.test/health", nil)
			if d, _ := h["data"].([]any); len(d) != 2 || d[0].(map[string]any)["health"] != "HEALTHCHECKS_OFF" {
				t.Fatalf("health: %v", h)
			}
			call(204, "DELETE", "/upstreams/up.test/targets/"+host(a), nil)
			served(map[string]bool{"b": true})

			sigs <- syscall.SIGTERM
			if code := <-n.code; code != 0 {
				t.Fatalf("exit %d: %s", code, n.stderr.String())
			}
		})
	}
}
