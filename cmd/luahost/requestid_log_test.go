package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every line a request causes carries its request id (the value of
// X-Kong-Request-Id and kong.request.get_id): the plugins' kong.log,
// ngx.log and kong.log.inspect lines in access, header_filter and log,
// the host's line for a plugin failing in log, the proxy's line for an
// upstream that refuses the connection, and the access-log line.
func TestRequestIDOnEveryLine(t *testing.T) {
	dir := t.TempDir()
	port := echoUpstream(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens there any more: connection refused
	c := pluginsConf()
	c.Append("plugins_dir", "testdata/plugins", "test")
	c.Set("log_level", "notice", "test")
	c.Set("prefix", dir, "test")
	c.Set("proxy_error_log", "logs/error.log", "test")
	c.Set("proxy_access_log", "logs/access.log", "test")
	c.Set("declarative_config", writeFile(t, "kong.yml", fmt.Sprintf(`_format_version: "3.0"
services:
- name: up
  url: http://127.0.0.1:%d/up
  routes:
  - name: ok
    paths: [/ok]
- name: down
  url: http://127.0.0.1:%d/down
  retries: 0
  routes:
  - name: down
    paths: [/down]
plugins:
- name: chatty
`, port, dead)), "test")
	sigs := make(chan os.Signal, 1)
	started := startNode(t, c, runOpts{signals: sigs})
	defer func() { sigs <- os.Interrupt; <-started.code }()
	proxyURL := "http://" + started.node.Server.Addrs[0].String()
	errorPath := filepath.Join(dir, "logs", "error.log")
	accessPath := filepath.Join(dir, "logs", "access.log")

	for _, tc := range []struct {
		path   string
		status int
		want   []string // markers of the lines the request must cause
	}{
		{"/ok/x", 200, []string{"chatty access /ok/x", "chatty ngx.log in access", "chatty inspect",
			"chatty header_filter 200", "chatty log", "chatty fails in log"}},
		{"/down/x", 502, []string{"chatty access /down/x", "chatty header_filter 502", "chatty log",
			"chatty fails in log", "upstream request failed"}},
	} {
		errBefore, accBefore := len(readLines(errorPath)), len(readLines(accessPath))
		a := request(t, proxyURL+tc.path)
		if a.code != tc.status {
			t.Fatalf("%s: %d %s", tc.path, a.code, a.body)
		}
		id := a.header.Get("X-Kong-Request-Id")
		if len(id) != 32 {
			t.Fatalf("%s: request id %q", tc.path, id)
		}
		// the access line is written after the log phase: every line of
		// the request is in by then
		eventually(t, tc.path+" logged", func() bool { return len(readLines(accessPath)) > accBefore })
		acc := readLines(accessPath)[accBefore:]
		if len(acc) != 1 || !strings.HasSuffix(acc[0], `kong_request_id: "`+id+`"`) {
			t.Errorf("%s: access log %q", tc.path, acc)
		}
		lines := readLines(errorPath)[errBefore:]
		for _, w := range tc.want {
			found := false
			for _, l := range lines {
				found = found || strings.Contains(l, w)
			}
			if !found {
				t.Errorf("%s: no line with %q in\n%s", tc.path, w, strings.Join(lines, "\n"))
			}
		}
		for _, l := range lines {
			if !strings.HasSuffix(l, `, request_id: "`+id+`"`) {
				t.Errorf("%s: a line without request_id %s: %s", tc.path, id, l)
			}
		}
	}
}
