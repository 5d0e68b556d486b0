package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/host/hosttest"
	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/kongdbtest"
	"github.com/luahost/luahost/kongdb/postgres/pgtest"
)

// asMain makes the test binary act as luahost (subprocess tests).
const asMain = "LUAHOST_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMain) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	// luahost test's nodes on any free port: the suite depends on no
	// fixed port (Kong's 9000, 9001, 15555 are tried outside tests)
	kongTestPorts = false
	os.Exit(m.Run())
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func echoUpstream(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "upstream %s host=%s", r.RequestURI, r.Host)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

func get(url string) (int, string, error) {
	res, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), nil
}

// waitFor polls until get(url) answers status, or fails at the deadline.
func waitFor(t *testing.T, url string, status int) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, body, err := get(url)
		if err == nil && code == status {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %d %q %v", url, code, body, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// `luahost run` in-process on each storage: routes created, changed and
// deleted after start are served after the rebuild; a signal stops it.
func TestRunServesRoutesCreatedAfterStart(t *testing.T) {
	for _, strategy := range hosttest.Strategies {
		t.Run(strategy, func(t *testing.T) {
			c := conf.New()
			c.Append("plugins_dir", "../../plugins", "test")
			c.Set("lua_package_path", "", "test")
			c.Set("mem_cache_size", "4m", "test")
			c.Set("log_level", "error", "test")
			c.Set("proxy_listen", "127.0.0.1:0, 127.0.0.1:0 ssl", "test")
			c.Set("admin_listen", "127.0.0.1:0", "test")
			if strategy == "postgres" {
				hosttest.UsePostgres(t, c)
			}
			upPort := echoUpstream(t)
			sigs := make(chan os.Signal, 2)
			started := startNode(t, c, runOpts{signals: sigs})
			n, code, stderr := started.node, started.code, started.stderr
			base := "http://" + n.Server.Addrs[0].String()
			if !strings.Contains(stderr.String(), "proxy listening on "+n.Server.Addrs[0].String()) ||
				!strings.Contains(stderr.String(), "proxy listening on "+n.Server.Addrs[1].String()+" (ssl)") {
				t.Errorf("stderr: %s", stderr.String())
			}
			waitFor(t, base+"/late/x", 404)

			ctx := context.Background()
			db := n.Host.Root.DB
			svc, err := db.DAO("services").Insert(ctx, map[string]any{
				"name": "late", "protocol": "http", "host": "127.0.0.1", "port": float64(upPort), "path": "/up"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			route, err := db.DAO("routes").Insert(ctx, map[string]any{
				"paths": []any{"/late"}, "service": map[string]any{"id": svc["id"]}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if body := waitFor(t, base+"/late/x?q=1", 200); body != fmt.Sprintf("upstream /up/x?q=1 host=127.0.0.1:%d", upPort) {
				t.Errorf("body %q", body)
			}
			// An update of the service is seen too.
			if _, err := db.DAO("services").Update(ctx, map[string]any{"id": svc["id"]}, map[string]any{"path": "/v2"}, nil); err != nil {
				t.Fatal(err)
			}
			waitFor(t, base+"/late/y", 200)
			checkTLSListener(t, db, n.Server.Addrs[1].String())
			for {
				_, body, _ := get(base + "/late/y")
				if strings.HasPrefix(body, "upstream /v2/y") {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if _, err := db.DAO("routes").Delete(ctx, map[string]any{"id": route["id"]}, nil); err != nil {
				t.Fatal(err)
			}
			waitFor(t, base+"/late/x", 404)

			sigs <- syscall.SIGTERM
			select {
			case c := <-code:
				if c != 0 {
					t.Fatalf("exit %d: %s", c, stderr.String())
				}
			case <-time.After(20 * time.Second):
				t.Fatal("run did not stop on SIGTERM")
			}
		})
	}
}

// luahostCmd runs the test binary as luahost.
func luahostCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asMain+"=1")
	// no Status API on Kong's 127.0.0.1:8007 unless the test asks for
	// one (Kong's spec/kong_tests.conf: status_listen = off); --set wins
	if os.Getenv("KONG_STATUS_LISTEN") == "" {
		cmd.Env = append(cmd.Env, "KONG_STATUS_LISTEN=off")
	}
	return cmd
}

func runOnce(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := luahostCmd(args...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("%v did not exit: %s", args, errb.String())
	}
	return cmd.ProcessState.ExitCode(), errb.String()
}

func checkOneLineError(t *testing.T, what string, code int, stderr, want string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	if code == 0 || len(lines) != 1 || !strings.HasPrefix(lines[0], "Error: ") || !strings.Contains(lines[0], want) ||
		strings.Contains(stderr, "goroutine ") {
		t.Errorf("%s: exit %d, stderr:\n%s\n(want one line with %q)", what, code, stderr, want)
	}
}

func TestRunProcessErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	base := []string{"--plugins-dir", "../../plugins", "--set", "mem_cache_size=4m"}
	code, stderr := runOnce(t, append([]string{"run", "--set", "proxy_listen=" + busy.Addr().String(), "--set", "admin_listen=127.0.0.1:0"}, base...)...)
	checkOneLineError(t, "busy port", code, stderr, "address already in use")

	code, stderr = runOnce(t, append([]string{"start", "--set", "proxy_listen=0.0.0.0:8000 bogus"}, base...)...)
	checkOneLineError(t, "bad listen", code, stderr, "proxy_listen must be of form: [off] | <ip>:<port>")

	code, stderr = runOnce(t, "run", "--plugins-dir", "../../host/testdata/broken", "--set", "proxy_listen=127.0.0.1:0", "--set", "admin_listen=127.0.0.1:0")
	// missing-migration runs: its migrations are read only for a database
	checkOneLineError(t, "broken plugin", code, stderr, "3 plugin error(s): ")
}

func TestRunProcessNeedsBootstrap(t *testing.T) {
	cfg := pgtest.NewDatabase(t)
	code, stderr := runOnce(t, "run", "--plugins-dir", "../../plugins", "--set", "database=postgres",
		"--set", "pg_host="+cfg.Host, "--set", fmt.Sprintf("pg_port=%d", cfg.Port),
		"--set", "pg_user="+cfg.User, "--set", "pg_database="+cfg.Database, "--set", "proxy_listen=127.0.0.1:0", "--set", "admin_listen=127.0.0.1:0")
	checkOneLineError(t, "not bootstrapped", code, stderr, "database needs bootstrapping (or is older than Kong 1.0): run 'luahost migrations bootstrap'")
}

// SIGTERM stops a running node: it stops accepting, exits 0.
func TestRunProcessSIGTERM(t *testing.T) {
	cmd := luahostCmd("run", "--plugins-dir", "../../plugins", "--set", "mem_cache_size=4m", "--set", "proxy_listen=127.0.0.1:0", "--set", "admin_listen=127.0.0.1:0")
	var errb syncBuffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	var addr string
	for addr == "" {
		if i := strings.Index(errb.String(), "proxy listening on "); i >= 0 {
			rest := errb.String()[i+len("proxy listening on "):]
			if j := strings.IndexByte(rest, '\n'); j >= 0 {
				addr = rest[:j]
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("never listened: %s", errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, body, err := get("http://" + addr + "/"); err != nil || code != 404 ||
		!strings.Contains(body, `"message":"no Route matched with those values"`) {
		t.Errorf("GET /: %d %q %v", code, body, err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("no exit after SIGTERM: %s", errb.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 || !strings.Contains(errb.String(), "luahost: stopped") {
		t.Errorf("exit %d: %s", code, errb.String())
	}
}

// Two nodes on one PostgreSQL: a route written by another node reaches
// this node through cluster_events (the "router:version" invalidation of
// kong.core_cache), and its router is rebuilt.
func TestRunRebuildsOnOtherNodesWrites(t *testing.T) {
	newConf := func() *conf.Config {
		c := conf.New()
		c.Append("plugins_dir", "../../plugins", "test")
		c.Set("lua_package_path", "", "test")
		c.Set("mem_cache_size", "4m", "test")
		c.Set("log_level", "error", "test")
		c.Set("proxy_listen", "127.0.0.1:0", "test")
		c.Set("admin_listen", "127.0.0.1:0", "test")
		return c
	}
	c := newConf()
	hosttest.UsePostgres(t, c)
	upPort := echoUpstream(t)
	sigs := make(chan os.Signal, 1)
	started := startNode(t, c, runOpts{signals: sigs})
	n, code, stderr := started.node, started.code, started.stderr
	base := "http://" + n.Server.Addrs[0].String()

	// The other node: its own host (node id, caches, cluster events).
	c2 := newConf()
	for _, k := range []string{"database", "pg_host", "pg_port", "pg_user", "pg_password", "pg_database"} {
		c2.Set(k, c.Get(k), "test")
	}
	other, err := host.New(host.Options{Conf: c2, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx := context.Background()
	svc, err := other.Root.DB.DAO("services").Insert(ctx, map[string]any{
		"protocol": "http", "host": "127.0.0.1", "port": float64(upPort)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Root.DB.DAO("routes").Insert(ctx, map[string]any{
		"paths": []any{"/remote"}, "service": map[string]any{"id": svc["id"]}}, nil); err != nil {
		t.Fatal(err)
	}
	if body := waitFor(t, base+"/remote/a", 200); body != fmt.Sprintf("upstream /a host=127.0.0.1:%d", upPort) {
		t.Errorf("body %q", body)
	}
	sigs <- syscall.SIGTERM
	if c := <-code; c != 0 {
		t.Fatalf("exit %d: %s", c, stderr.String())
	}
}

// A second signal while in-flight requests are finishing exits at once.
func TestRunSecondSignalExitsAtOnce(t *testing.T) {
	c := conf.New()
	c.Append("plugins_dir", "../../plugins", "test")
	c.Set("lua_package_path", "", "test")
	c.Set("mem_cache_size", "4m", "test")
	c.Set("log_level", "error", "test")
	c.Set("proxy_listen", "127.0.0.1:0", "test")
	c.Set("admin_listen", "127.0.0.1:0", "test")
	// An upstream that accepts and never answers.
	hang, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hang.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := hang.Accept(); err == nil {
			accepted <- c
		}
	}()
	sigs := make(chan os.Signal, 2)
	exited := make(chan int, 1)
	started := startNode(t, c, runOpts{signals: sigs, exit: func(c int) { exited <- c }})
	n, code, stderr := started.node, started.code, started.stderr
	ctx := context.Background()
	svc, err := n.Host.Root.DB.DAO("services").Insert(ctx, map[string]any{
		"protocol": "http", "host": "127.0.0.1", "port": float64(hang.Addr().(*net.TCPAddr).Port)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Host.Root.DB.DAO("routes").Insert(ctx, map[string]any{
		"paths": []any{"/hang"}, "service": map[string]any{"id": svc["id"]}}, nil); err != nil {
		t.Fatal(err)
	}
	base := "http://" + n.Server.Addrs[0].String()
	waitFor(t, base+"/other", 404)
	// Wait for the rebuild (a route that is not there yet answers 404).
	deadline := time.Now().Add(15 * time.Second)
	for {
		r, _ := n.Router.Load()
		if r != nil && r.Len() == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("route never built")
		}
		time.Sleep(10 * time.Millisecond)
	}
	go get(base + "/hang")
	conn := <-accepted
	defer conn.Close()
	sigs <- syscall.SIGTERM
	sigs <- syscall.SIGINT
	select {
	case c := <-exited:
		if c != 1 {
			t.Errorf("exit code %d", c)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("second signal did not exit: %s", stderr.String())
	}
	if c := <-code; c != 1 || !strings.Contains(stderr.String(), "received again, exiting now") {
		t.Errorf("run returned %d: %s", c, stderr.String())
	}
}

// startedNode is runNode running in the background for a test.
type startedNode struct {
	*node
	stderr *syncBuffer
	code   chan int // runNode's exit code, once it returns
}

// startNode runs runNode(c) with opts in the background and waits until it
// serves; a node that exits first fails the test with its stderr.
func startNode(t *testing.T, c *conf.Config, opts runOpts) *startedNode {
	t.Helper()
	ready := make(chan *node, 1)
	s := &startedNode{stderr: &syncBuffer{}, code: make(chan int, 1)}
	opts.ready = func(n *node) { ready <- n }
	if c.Source("status_listen") == "default" {
		// Kong's spec/kong_tests.conf: no Status API on 8007
		c.Set("status_listen", "off", "test")
	}
	go func() { s.code <- runNode(c, io.Discard, s.stderr, opts) }()
	select {
	case s.node = <-ready:
	case code := <-s.code:
		t.Fatalf("exit %d: %s", code, s.stderr.String())
	}
	return s
}

// checkTLSListener: the ssl listener proxies the routes, and a certificate
// with its snis entity created at run time is what new handshakes for that
// name get (a CRUD event reloads the certificates).
func checkTLSListener(t *testing.T, db *kongdb.DB, addr string) {
	t.Helper()
	ctx := context.Background()
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: "late.test"}}
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("https://" + addr + "/late/x")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(string(body), "upstream /") {
		t.Errorf("https: %d %q", res.StatusCode, body)
	}
	cn := func() string {
		conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, ServerName: "late.test"})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	if got := cn(); got != "localhost" { // the generated default
		t.Errorf("default certificate CN %q", got)
	}
	cert, key := kongdbtest.Cert(t, "late.test", false, time.Now().Add(time.Hour))
	row, err := db.DAO("certificates").Insert(ctx, map[string]any{"cert": cert, "key": key}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.DAO("snis").Insert(ctx, map[string]any{"name": "late.test", "certificate": map[string]any{"id": row["id"]}}, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for cn() != "late.test" {
		if time.Now().After(deadline) {
			t.Fatal("the new certificate is not served")
		}
		<-time.After(5 * time.Millisecond) // poll, bounded by the deadline
	}
}
