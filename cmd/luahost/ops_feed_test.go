package main

import (
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// opsYML is demoYML with a route whose plugin spins until lua_timeout
// stops it.
func opsYML(upstreamPort int) string {
	spin := fmt.Sprintf(`- name: spinning
  url: http://127.0.0.1:%d/spin
  routes:
  - name: spin-route
    paths: [/spin]
  plugins:
  - name: spin
routes:
`, upstreamPort)
	return strings.Replace(demoYML(upstreamPort), "routes:\n- name: locked-route", spin+"- name: locked-route", 1)
}

func readLines(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// A node with status_listen and both access logs: proxied requests show
// on /metrics under Kong's series (by route, service, code and source,
// with latency histograms), each request (routed or not) gets one
// kong_log_format line with its request id, the Admin API's requests go to
// admin_access_log, and a plugin stopped by lua_timeout is counted.
func TestOpsFed(t *testing.T) {
	dir := t.TempDir()
	port := echoUpstream(t)
	c := pluginsConf()
	c.Append("plugins_dir", "testdata/plugins", "test")
	c.Set("lua_timeout", spinTimeout, "test")
	c.Set("prefix", dir, "test")
	c.Set("status_listen", "127.0.0.1:0", "test")
	c.Set("admin_listen", "127.0.0.1:0", "test")
	c.Set("proxy_access_log", "logs/access.log", "test")
	c.Set("admin_access_log", "logs/admin_access.log", "test")
	c.Set("declarative_config", writeFile(t, "kong.yml", opsYML(port)), "test")
	sigs := make(chan os.Signal, 1)
	started := startNode(t, c, runOpts{signals: sigs})
	defer func() { sigs <- os.Interrupt; <-started.code }()
	n := started.node
	proxyURL := "http://" + n.Server.Addrs[0].String()
	waitFor(t, proxyURL+"/open/x", 200)
	accessPath := filepath.Join(dir, "logs", "access.log")
	// waitFor's requests are logged too: start counting from here
	eventually(t, "the first request logged", func() bool { return len(readLines(accessPath)) >= 1 })
	before := len(readLines(accessPath))

	ok := request(t, proxyURL+"/open/x?a=%22b%22", "User-Agent", "ops-test/1", "Referer", "http://ref/")
	if ok.code != 200 {
		t.Fatalf("/open: %d %s", ok.code, ok.body)
	}
	denied := request(t, proxyURL+"/locked", "Authorization", "Basic "+basicAuth("ann", "pw"))
	if denied.code != 401 {
		t.Fatalf("/locked: %d %s", denied.code, denied.body)
	}
	if a := request(t, proxyURL+"/nowhere"); a.code != 404 {
		t.Fatalf("/nowhere: %d", a.code)
	}
	if a := request(t, proxyURL+"/spin"); a.code != 500 {
		t.Fatalf("/spin: %d %s", a.code, a.body)
	}

	eventually(t, "four more access-log lines", func() bool { return len(readLines(accessPath)) >= before+4 })
	lines := readLines(accessPath)[before:]
	if len(lines) != 4 {
		t.Fatalf("access log: %q", lines)
	}
	line := regexp.MustCompile(`^127\.0\.0\.1 - (-|ann) \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET (\S+) HTTP/1\.1" (\d{3}) (\d+) "([^"]*)" "([^"]*)" kong_request_id: "([0-9a-f]{32})"$`)
	want := []struct{ uri, code, referer, agent, rid string }{
		{`/open/x?a=%22b%22`, "200", "http://ref/", "ops-test/1", ok.header.Get("X-Kong-Request-Id")},
		{"/locked", "401", "-", "Go-http-client/1.1", denied.header.Get("X-Kong-Request-Id")},
		{"/nowhere", "404", "-", "Go-http-client/1.1", ""},
		{"/spin", "500", "-", "Go-http-client/1.1", ""},
	}
	for i, l := range lines {
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("line %d not in kong_log_format: %s", i, l)
			continue
		}
		w := want[i]
		if m[2] != w.uri || m[3] != w.code || m[5] != w.referer || m[6] != w.agent || (w.rid != "" && m[7] != w.rid) {
			t.Errorf("line %d: %s\nwant %+v", i, l, w)
		}
	}
	if !strings.Contains(lines[1], " - ann [") {
		t.Errorf("remote_user: %s", lines[1])
	}
	if !strings.HasSuffix(lines[0], `"`) || strings.Contains(lines[0], " 200 0 ") {
		t.Errorf("body_bytes_sent of a proxied body: %s", lines[0])
	}

	code, metricsOut, err := get("http://" + n.StatusAddrs[0].String() + "/metrics")
	if err != nil || code != 200 {
		t.Fatalf("/metrics: %d %v", code, err)
	}
	for _, w := range []string{
		`kong_http_requests_total{code="200",consumer="",route="open",service="echo",source="service",workspace="default"} 2`,
		`kong_http_requests_total{code="401",consumer="",route="locked-route",service="locked",source="kong",workspace="default"} 1`,
		`kong_http_requests_total{code="500",consumer="",route="spin-route",service="spinning",source="kong",workspace="default"} 1`,
		`kong_request_latency_ms_bucket{route="open",service="echo",workspace="default",le="+Inf"} 2`,
		`kong_request_latency_ms_count{route="locked-route",service="locked",workspace="default"} 1`,
		`kong_upstream_latency_ms_count{route="open",service="echo",workspace="default"} 2`,
		`kong_kong_latency_ms_bucket{route="open",service="echo",workspace="default",le="+Inf"} 2`,
		`kong_kong_latency_ms_count{route="locked-route",service="locked",workspace="default"} 1`,
		`luahost_lua_deadline_stops_total{phase="access",plugin="spin"} 1`,
	} {
		if !strings.Contains(metricsOut, w) {
			t.Errorf("/metrics lacks %s\n%s", w, grepLines(metricsOut, w[:strings.IndexByte(w, '{')]))
		}
	}
	if strings.Contains(metricsOut, `kong_upstream_latency_ms_count{route="locked-route"`) {
		t.Errorf("an upstream latency for a request Kong answered")
	}
	if strings.Contains(metricsOut, `code="404"`) {
		t.Errorf("a request no route matched is in kong_http_requests_total")
	}
	// /status counts every request, routed or not (waitFor's and the four)
	_, statusOut, _ := get("http://" + n.StatusAddrs[0].String() + "/status")
	if !strings.Contains(statusOut, `"total_requests":5`) {
		t.Errorf("/status: %s", statusOut)
	}
	// the proxy's connections, counted by the proxy: on /status and as
	// Kong's kong_nginx_* gauges
	if !regexp.MustCompile(`"connections_accepted":[1-9]`).MatchString(statusOut) ||
		!regexp.MustCompile(`"connections_active":[1-9]`).MatchString(statusOut) {
		t.Errorf("/status connections: %s", statusOut)
	}
	nodeID := n.Host.Root.NodeIDValue()
	for _, re := range []string{
		`(?m)^kong_nginx_requests_total\{node_id="` + nodeID + `",subsystem="http"\} 5$`,
		`(?m)^kong_nginx_connections_total\{node_id="` + nodeID + `",state="accepted",subsystem="http"\} [1-9]`,
		`(?m)^kong_nginx_connections_total\{node_id="` + nodeID + `",state="total",subsystem="http"\} 5$`,
		`(?m)^kong_nginx_connections_total\{node_id="` + nodeID + `",state="writing",subsystem="http"\} 0$`,
	} {
		if !regexp.MustCompile(re).MatchString(metricsOut) {
			t.Errorf("/metrics lacks %s\n%s", re, grepLines(metricsOut, "kong_nginx"))
		}
	}

	// kong.cache's gets by hit level: token-auth loads the credential and
	// the consumer (misses), then finds both in the worker's L1 or in L2
	for i := 0; i < 2; i++ {
		if a := request(t, proxyURL+"/locked", "x-token", "alice-key"); a.code != 200 {
			t.Fatalf("/locked with a token: %d %s", a.code, a.body)
		}
	}
	_, metricsOut, _ = get("http://" + n.StatusAddrs[0].String() + "/metrics")
	hits := regexp.MustCompile(`(?m)^luahost_cache_hits_total\{cache="kong.cache",level="[12]"\} ([1-9]\d*)$`).FindAllStringSubmatch(metricsOut, -1)
	misses := regexp.MustCompile(`(?m)^luahost_cache_misses_total\{cache="kong.cache"\} ([1-9]\d*)$`).FindStringSubmatch(metricsOut)
	if len(hits) == 0 || misses == nil {
		t.Errorf("kong.cache gets not counted:\n%s", grepLines(metricsOut, "luahost_cache_"))
	}
	// the worker pool and the data layer are fed too
	for _, re := range []string{
		`(?m)^luahost_worker_pool_workers [1-9]`,
		`(?m)^luahost_worker_pool_acquired_total [1-9]`,
		`(?m)^luahost_db_query_seconds_count\{operation="select_by",strategy="off"\} [1-9]`,
	} {
		if !regexp.MustCompile(re).MatchString(metricsOut) {
			t.Errorf("/metrics lacks %s\n%s", re, grepLines(metricsOut, "luahost_"))
		}
	}

	// the Admin API's requests go to admin_access_log, in nginx's combined
	// format
	adminPath := filepath.Join(dir, "logs", "admin_access.log")
	res, err := http.Get("http://" + n.Admin.Addrs[0].String() + "/services?size=1")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("admin: %d", res.StatusCode)
	}
	eventually(t, "the Admin API request logged", func() bool { return len(readLines(adminPath)) >= 1 })
	adminLine := regexp.MustCompile(`^127\.0\.0\.1 - - \[[^]]+\] "GET /services\?size=1 HTTP/1\.1" 200 [1-9]\d* "-" "Go-http-client/1\.1"$`)
	if l := readLines(adminPath); len(l) < 1 || !adminLine.MatchString(l[0]) {
		t.Errorf("admin_access_log: %q", l)
	}
	// a request fasthttp cannot read is answered 400 and logged too
	conn, err := net.Dial("tcp", n.Admin.Addrs[0].String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(conn, "GET /status HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n")
	reply, _ := io.ReadAll(conn)
	conn.Close()
	if !strings.HasPrefix(string(reply), "HTTP/1.1 400") {
		t.Errorf("malformed request: %q", reply)
	}
	eventually(t, "the malformed request logged", func() bool { return len(readLines(adminPath)) >= 2 })
	if l := readLines(adminPath); !strings.Contains(l[1], `" 400 `) {
		t.Errorf("admin_access_log: %q", l)
	}
	// the Admin API's /status shows the proxy's counters too (Kong's are
	// nginx's): 7 proxied requests by now
	_, adminStatus, _ := get("http://" + n.Admin.Addrs[0].String() + "/status")
	if !strings.Contains(adminStatus, `"total_requests":7`) || !regexp.MustCompile(`"connections_accepted":[1-9]`).MatchString(adminStatus) {
		t.Errorf("Admin API /status: %s", adminStatus)
	}

	for _, l := range readLines(accessPath) {
		if strings.Contains(l, "/services") {
			t.Errorf("an Admin API request in proxy_access_log: %s", l)
		}
	}
}

func basicAuth(user, pw string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pw))
}

// grepLines are out's lines starting with prefix (a failure's context).
func grepLines(out, prefix string) string {
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}
