package main

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/host/hosttest"
	"github.com/luahost/luahost/logging"
)

// status_listen serves Kong's /status (database reachable, server,
// memory; configuration_hash on the embedded store), /status/ready and
// /metrics with the worker pool and cache figures, on both stores.
func TestStatusListen(t *testing.T) {
	for _, strategy := range hosttest.Strategies {
		t.Run(strategy, func(t *testing.T) {
			c := conf.New()
			c.Append("plugins_dir", "../../plugins", "test")
			c.Set("lua_package_path", "", "test")
			c.Set("log_level", "error", "test")
			c.Set("proxy_listen", "127.0.0.1:0", "test")
			c.Set("status_listen", "127.0.0.1:0", "test")
			c.Set("admin_listen", "off", "test")
			if strategy == "postgres" {
				hosttest.UsePostgres(t, c)
			} else {
				c.Set("declarative_config", writeFile(t, "kong.yml", demoYML(9)), "test")
			}
			sigs := make(chan os.Signal, 1)
			started := startNode(t, c, runOpts{signals: sigs})
			defer func() { sigs <- os.Interrupt; <-started.code }()
			// the proxy serves before it is stopped (a stop racing the
			// start of proxy.Server.Serve hangs: not this test's subject)
			waitFor(t, "http://"+started.node.Server.Addrs[0].String()+"/nowhere", 404)
			if len(started.node.StatusAddrs) != 1 {
				t.Fatalf("status addrs %v", started.node.StatusAddrs)
			}
			base := "http://" + started.node.StatusAddrs[0].String()
			code, body, err := get(base + "/status")
			if err != nil || code != 200 {
				t.Fatalf("/status: %d %v", code, err)
			}
			var st map[string]any
			if err := json.Unmarshal([]byte(body), &st); err != nil {
				t.Fatal(err)
			}
			if db, _ := st["database"].(map[string]any); db["reachable"] != true {
				t.Errorf("database: %v", st)
			}
			if srv, _ := st["server"].(map[string]any); srv == nil || srv["total_requests"] == nil {
				t.Errorf("server: %v", st)
			}
			mem, _ := st["memory"].(map[string]any)
			vms, _ := mem["workers_lua_vms"].([]any)
			if len(vms) != 1 || !strings.HasSuffix(vms[0].(map[string]any)["http_allocated_gc"].(string), " MiB") {
				t.Errorf("memory: %v", mem)
			}
			hash, hasHash := st["configuration_hash"].(string)
			if strategy == "off" && (!hasHash || len(hash) != 32 || hash == strings.Repeat("0", 32)) {
				t.Errorf("configuration_hash: %v", st)
			}
			if strategy == "postgres" && hasHash {
				t.Errorf("configuration_hash with a database: %v", st)
			}
			if code, _, _ := get(base + "/status/ready"); code != 200 {
				t.Errorf("/status/ready: %d", code)
			}
			code, body, _ = get(base + "/metrics")
			for _, want := range []string{"luahost_worker_pool_workers ", `luahost_cache_l2_entries{cache="kong.cache"}`,
				`luahost_cache_l2_entries{cache="kong.core_cache"}`, "kong_datastore_reachable 1",
				`luahost_db_query_seconds_count{operation="page",strategy="` + strategy + `"}`} {
				if code != 200 || !strings.Contains(body, want) {
					t.Errorf("/metrics lacks %q (%d)", want, code)
				}
			}
		})
	}
}

// proxy_error_log takes the node's log lines (at log_level); the access
// logs are opened where kong.conf says and handed to the proxy and Admin
// API.
func TestLogDestinations(t *testing.T) {
	dir := t.TempDir()
	c := conf.New()
	c.Append("plugins_dir", "../../plugins", "test")
	c.Set("lua_package_path", "", "test")
	c.Set("log_level", "debug", "test")
	c.Set("proxy_listen", "127.0.0.1:0", "test")
	c.Set("prefix", dir, "test")
	c.Set("proxy_error_log", "logs/error.log", "test")
	c.Set("proxy_access_log", "logs/access.log", "test")
	c.Set("admin_access_log", "off", "test")
	c.Set("admin_listen", "off", "test")
	sigs := make(chan os.Signal, 1)
	started := startNode(t, c, runOpts{signals: sigs})
	n := started.node
	waitFor(t, "http://"+n.Server.Addrs[0].String()+"/nowhere", 404)
	if n.AccessLog == nil || n.AdminAccessLog != nil {
		t.Errorf("access logs: %v %v", n.AccessLog, n.AdminAccessLog)
	}
	n.AccessLog.Log(&logging.Entry{Method: "GET", URI: "/x", Proto: "HTTP/1.1", Status: 200, RequestID: "r1"})
	n.Host.Logger.Debug("hello from a test")
	sigs <- os.Interrupt
	<-started.code
	b, err := os.ReadFile(filepath.Join(dir, "logs", "error.log"))
	if err != nil || !strings.Contains(string(b), "#0: hello from a test\n") || !strings.Contains(string(b), " [debug] ") {
		t.Errorf("error.log: %s %v", b, err)
	}
	if strings.Contains(started.stderr.String(), "hello from a test") {
		t.Errorf("log line on stderr too: %s", started.stderr.String())
	}
	b, err = os.ReadFile(filepath.Join(dir, "logs", "access.log"))
	if err != nil || !strings.Contains(string(b), `"GET /x HTTP/1.1" 200 0 "-" "-" kong_request_id: "r1"`) {
		t.Errorf("access.log: %s %v", b, err)
	}
}

// `luahost run` with Kong's defaults serves the Status API on
// 127.0.0.1:8007 (Kong 3.6's status_listen). The port may be held on this
// machine by another server: then the node must refuse to start with
// status_listen's one-line error, as for the other listeners.
func TestRunServesStatusOnKongsDefault(t *testing.T) {
	cmd := exec.Command(os.Args[0], "run", "--plugins-dir", "../../plugins", "--set", "mem_cache_size=4m",
		"--set", "proxy_listen=127.0.0.1:0", "--set", "admin_listen=off")
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "KONG_STATUS_LISTEN=") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Env = append(cmd.Env, asMain+"=1")
	var errb syncBuffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		<-done
	}()
	const line = "luahost: status listening on 127.0.0.1:8007\n"
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(errb.String(), line) {
		if time.Now().After(deadline) || strings.Contains(errb.String(), "proxy listening on ") {
			t.Fatalf("no status listener on 8007: %s", errb.String())
		}
		select {
		case <-done:
			if strings.Contains(errb.String(), "address already in use") {
				checkOneLineError(t, "8007 in use", cmd.ProcessState.ExitCode(), errb.String(), "Error: status_listen: ")
				return
			}
			t.Fatalf("exit %d: %s", cmd.ProcessState.ExitCode(), errb.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	code, body, err := get("http://127.0.0.1:8007/status")
	var st map[string]any
	if err != nil || code != 200 || json.Unmarshal([]byte(body), &st) != nil || st["server"] == nil {
		t.Fatalf("/status on 8007: %d %q %v", code, body, err)
	}
}

// A status_listen that cannot be bound stops the node with one line
// naming status_listen, as admin_listen and proxy_listen.
func TestRunStatusListenBusy(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	code, stderr := runOnce(t, "run", "--plugins-dir", "../../plugins", "--set", "mem_cache_size=4m",
		"--set", "proxy_listen=127.0.0.1:0", "--set", "admin_listen=off", "--set", "status_listen="+busy.Addr().String()+" reuseport")
	checkOneLineError(t, "busy status port", code, stderr, "status_listen: ")
	if !strings.Contains(stderr, "address already in use") {
		t.Errorf("stderr: %s", stderr)
	}
}
