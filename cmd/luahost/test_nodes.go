package main

// The nodes behind spec.helpers (host/lua/spec/helpers.lua): get_db_utils
// starts a staging node whose Admin API the blueprints write through;
// start_kong replaces it with a node configured as the spec asks, carrying
// the data over (postgres: the same database; off: the staging store
// exported as declarative_config_string, as Kong's helpers do for
// database = off).

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/jackc/pgx/v5"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/admin"
	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/internal/grpcbin"
	"github.com/luahost/luahost/kongdb/declarative"
	"github.com/luahost/luahost/kongdb/postgres"
	"github.com/luahost/luahost/pdk/spechelpers"
	"github.com/luahost/luahost/proxy"
)

// specNodes implements spechelpers.Nodes for one luahost test run.
type specNodes struct {
	base    *conf.Config
	mu      sync.Mutex
	mock    *spechelpers.MockUpstream
	mockErr error
	// grpcbin is the grpcbin look-alike, started by the first spec that
	// reads a grpcbin_* constant
	grpcbin    *grpcbin.Server
	grpcbinErr error
	strategy   string
	plugins    []string
	staging    *specNode
	// forced is --strategy: the only strategy specs iterate over; with
	// "off", get_db_utils("postgres") (the plugin template's blueprints
	// for its off runs) writes to the embedded store, so no PostgreSQL
	// is needed
	forced string
	// fixedPorts: try Kong's test ports first (9000, 9001, 15555)
	fixedPorts bool
	// traces are the plugin handlers run per proxied request
	traces phaseTraces
	// host is the host of the round running (SpareState)
	host *host.Host
	// pluginDirs are the directories of the plugins of the nodes started
	// (takePluginDirs)
	pluginDirs []string
	kong       *specNode
	// logDir is the nodes' prefix, as Kong's servroot: their error log is
	// its logs/error.log
	logDir string
	// stopping counts the nodes still shutting down: a node is stopped in
	// the background (its proxy waits up to 100 ms for the clients'
	// kept-alive connections), and Close waits for them
	stopping sync.WaitGroup
}

// retire stops sn in the background (nil is nothing).
func (s *specNodes) retire(sn *specNode) {
	if sn == nil {
		return
	}
	s.stopping.Add(1)
	go func() {
		defer s.stopping.Done()
		sn.stop()
	}()
}

// ErrorLogPath is the nodes' proxy_error_log, <prefix>/logs/error.log
// under a temporary prefix made on first use.
func (s *specNodes) ErrorLogPath() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.errorLogPath()
}

func (s *specNodes) errorLogPath() (string, error) {
	if s.logDir == "" {
		dir, err := os.MkdirTemp("", "luahost-spec-")
		if err != nil {
			return "", err
		}
		if err := os.Mkdir(filepath.Join(dir, "logs"), 0o755); err != nil {
			os.RemoveAll(dir)
			return "", err
		}
		s.logDir = dir
	}
	return filepath.Join(s.logDir, "logs", "error.log"), nil
}

// specNode is a node run by runNode in a goroutine, stopped by a signal.
type specNode struct {
	n    *node
	sig  chan os.Signal
	done chan int
}

func newSpecNodes(base *conf.Config) *specNodes {
	return &specNodes{base: base, fixedPorts: kongTestPorts}
}

// kongTestPorts: luahost test tries Kong's fixed test ports (the Go test
// suite turns it off).
var kongTestPorts = true

// Kong's test ports (spec/kong_tests.conf, spec/internal/constants.lua).
const (
	KongProxyPort        = 9000
	KongAdminPort        = 9001
	KongProxySSLPort     = 9443
	KongProxyH2Port      = 9002
	KongAdminSSLPort     = 9444
	KongMockUpstreamPort = 15555
	// KongMockUpstreamSSLPort is the mock upstream's TLS side
	KongMockUpstreamSSLPort = 15556
)

// fixedPort is port when Kong's fixed ports are in use and it is free
// now, else 0 (any): a node or mock upstream that cannot have it listens
// elsewhere, and helpers.get_proxy_port() and the others say where. Our
// own tests turn fixedPorts off.
func (s *specNodes) fixedPort(port int) int {
	if !s.fixedPorts {
		return 0
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return 0
	}
	ln.Close()
	return port
}

// Close stops every node and the mock upstream.
func (s *specNodes) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retire(s.staging)
	s.retire(s.kong)
	s.staging, s.kong = nil, nil
	s.stopping.Wait()
	if s.mock != nil {
		s.mock.Close()
	}
	if s.grpcbin != nil {
		s.grpcbin.Close()
	}
	if s.logDir != "" {
		os.RemoveAll(s.logDir)
	}
}

// takePluginDirs returns the directories of the plugins the nodes started
// since the last call ran (--watch: a spec file's run depends on them).
func (s *specNodes) takePluginDirs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.pluginDirs
	s.pluginDirs = nil
	return out
}

// noteNode records the plugin directories of a node just started.
func (s *specNodes) noteNode(sn *specNode) {
	for _, p := range sn.n.Host.Plugins {
		s.pluginDirs = append(s.pluginDirs, p.Dir)
	}
}

// phaseTraces keep, per client connection to a node's proxy, the plugin
// handlers the last request on it ran: a failed assertion on a response
// from proxy_client shows them.
type phaseTraces struct {
	mu sync.Mutex
	m  map[string]*phaseTrace // client address -> its last request's
}

type phaseTrace struct {
	requestID string
	steps     []string
}

func (t *phaseTraces) record(c *proxy.Context, plugin, phase string, exited bool, err error) {
	key := c.RequestCtx.RemoteAddr().String()
	step := phase + ": " + plugin
	if exited {
		step += " (exited)"
	}
	if err != nil {
		step += " (error: " + oneLine(err.Error()) + ")"
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]*phaseTrace{}
	}
	tr := t.m[key]
	if tr == nil || tr.requestID != c.RequestID {
		tr = &phaseTrace{requestID: c.RequestID}
		t.m[key] = tr
	}
	tr.steps = append(tr.steps, step)
}

// ProxyTrace is the plugin handlers run for the last request sent from
// clientAddr, one per line ("" when none ran or nothing is known).
func (s *specNodes) ProxyTrace(clientAddr string) string {
	s.traces.mu.Lock()
	defer s.traces.mu.Unlock()
	tr := s.traces.m[clientAddr]
	if tr == nil {
		return ""
	}
	return strings.Join(tr.steps, "\n")
}

func (s *specNodes) setHost(h *host.Host) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.host = h
}

// SpareState is a state of the round's host (http_mock's routes).
func (s *specNodes) SpareState() (*lua.LState, func(), error) {
	s.mu.Lock()
	h := s.host
	s.mu.Unlock()
	if h == nil {
		return nil, nil, fmt.Errorf("no spec run in progress")
	}
	return h.SpareState()
}

// Strategy is --strategy ("" when not given).
func (s *specNodes) Strategy() string { return s.forced }

func (s *specNodes) MockUpstreamPort() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensureMock(); err != nil {
		return 0
	}
	return s.mock.Port()
}

func (s *specNodes) MockUpstreamSSLPort() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensureMock(); err != nil {
		return 0
	}
	return s.mock.SSLPort()
}

// GRPCBin starts the grpcbin look-alike on first use (any free ports:
// Kong's defaults, 9000 and 9001, are its proxy's and Admin API's).
func (s *specNodes) GRPCBin() (int, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.grpcbin == nil && s.grpcbinErr == nil {
		s.grpcbin, s.grpcbinErr = grpcbin.Start("127.0.0.1:0", "127.0.0.1:0")
	}
	if s.grpcbinErr != nil {
		return 0, 0, s.grpcbinErr
	}
	return s.grpcbin.Port, s.grpcbin.SSLPort, nil
}

func (s *specNodes) ensureMock() error {
	if s.mock == nil && s.mockErr == nil {
		// Kong's fixed test port when free (specs that write 15555 out
		// work), else any
		s.mock, s.mockErr = spechelpers.StartMockUpstream(fmt.Sprintf("127.0.0.1:%d", s.fixedPort(KongMockUpstreamPort)))
		if s.mockErr != nil {
			s.mock, s.mockErr = spechelpers.StartMockUpstream("127.0.0.1:0")
		}
		// its TLS side, on Kong's 15556 when free
		if s.mockErr == nil {
			if err := s.mock.ListenTLS(fmt.Sprintf("127.0.0.1:%d", s.fixedPort(KongMockUpstreamSSLPort))); err != nil {
				if err := s.mock.ListenTLS("127.0.0.1:0"); err != nil {
					s.mock.Close()
					s.mock, s.mockErr = nil, err
				}
			}
		}
	}
	return s.mockErr
}

// lockedBuffer collects a node's stderr (written from its goroutines).
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startSpecNode runs a node with c (and start_kong's fixtures) and returns
// once it listens (or has failed, with the error it printed).
func (s *specNodes) startSpecNode(c *conf.Config, fx spechelpers.Fixtures) (*specNode, error) {
	opts := runOpts{onPhase: s.traces.record, dnsMock: fx.DNSMock}
	sn, err := startSpecNodeOnce(c, opts)
	if err != nil && strings.Contains(err.Error(), "address already in use") &&
		(c.Get("proxy_listen") != anyProxyPorts || c.Get("admin_listen") != anyPorts) {
		// a fixed port taken since it was found free: any port
		c.Set("proxy_listen", anyProxyPorts, "spec.helpers")
		c.Set("admin_listen", anyPorts, "spec.helpers")
		return startSpecNodeOnce(c, opts)
	}
	return sn, err
}

func startSpecNodeOnce(c *conf.Config, opts runOpts) (*specNode, error) {
	sn := &specNode{sig: make(chan os.Signal, 2), done: make(chan int, 1)}
	ready := make(chan *node, 1)
	errs := &lockedBuffer{}
	go func() {
		sn.done <- runNode(c, io.Discard, errs, runOpts{signals: sn.sig, ready: func(n *node) { ready <- n }, onPhase: opts.onPhase, dnsMock: opts.dnsMock})
	}()
	select {
	case sn.n = <-ready:
		return sn, nil
	case <-sn.done:
		return nil, fmt.Errorf("starting luahost: %s", strings.TrimSpace(errs.String()))
	}
}

func (sn *specNode) stop() {
	if sn == nil {
		return
	}
	sn.sig <- syscall.SIGTERM
	<-sn.done
}

func (sn *specNode) ports() spechelpers.Node {
	var n spechelpers.Node
	// the first plain entry, the first ssl one, the first plain http2 one
	// (Kong's get_proxy_port(ssl, http2))
	for i, a := range sn.n.Server.Addrs {
		l := sn.n.Server.Listeners[i]
		switch {
		case l.SSL && n.ProxySSLPort == 0:
			n.ProxySSLPort = portOf(a)
		case !l.SSL && n.ProxyPort == 0:
			n.ProxyPort = portOf(a)
		}
		if !l.SSL && l.HTTP2 && n.ProxyH2Port == 0 {
			n.ProxyH2Port = portOf(a)
		}
	}
	if sn.n.Admin != nil {
		if a := sn.n.Admin.Addrs; len(a) > 0 {
			n.AdminPort = portOf(a[0])
			if len(a) > 1 {
				n.AdminSSLPort = portOf(a[1])
			}
		}
	}
	return n
}

// anyPorts is a node's listeners on any free ports: plain, then TLS with
// HTTP/2 (Kong's spec/kong_tests.conf has 9000 and 9443, 9001 and 9444).
const anyPorts = "127.0.0.1:0, 127.0.0.1:0 http2 ssl"

// anyProxyPorts is anyPorts and the cleartext http2 entry (Kong's 9002).
const anyProxyPorts = anyPorts + ", 127.0.0.1:0 http2"

// listenOn is a node's proxy_listen or admin_listen on ports plain and tls.
func listenOn(plain, tls int) string {
	return fmt.Sprintf("127.0.0.1:%d, 127.0.0.1:%d http2 ssl", plain, tls)
}

func portOf(a net.Addr) int {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.Port
	}
	_, p, _ := net.SplitHostPort(a.String())
	var n int
	fmt.Sscan(p, &n)
	return n
}

// nodeConf is the test run's configuration with the spec's keys on top
// and the listeners on free ports.
func (s *specNodes) nodeConf(over map[string]string) *conf.Config {
	c := conf.New()
	for _, k := range s.base.Keys() {
		c.Set(k, s.base.Get(k), s.base.Source(k))
	}
	// Kong's spec/kong_tests.conf has a third proxy entry, cleartext
	// http2 (h2c), for proxy_client_grpc and proxy_client_h2c
	c.Set("proxy_listen", listenOn(s.fixedPort(KongProxyPort), s.fixedPort(KongProxySSLPort))+
		fmt.Sprintf(", 127.0.0.1:%d http2", s.fixedPort(KongProxyH2Port)), "spec.helpers")
	c.Set("admin_listen", listenOn(s.fixedPort(KongAdminPort), s.fixedPort(KongAdminSSLPort)), "spec.helpers")
	c.Set("status_listen", "off", "spec.helpers")
	c.Set("proxy_access_log", "off", "spec.helpers")
	c.Set("admin_access_log", "off", "spec.helpers")
	// Kong's spec/kong_tests.conf: debug, into servroot/logs/error.log
	c.Set("log_level", "debug", "spec.helpers")
	if path, err := s.errorLogPath(); err == nil {
		c.Set("proxy_error_log", path, "spec.helpers")
	}
	for k, v := range over {
		c.Set(k, v, "start_kong")
	}
	if p := strings.TrimSuffix(strings.TrimSpace(over["lua_package_path"]), ";"); p != "" {
		// Kong's kong_exec: a spec's lua_package_path comes after the
		// fixtures' plugins and vaults and before the test configuration's
		// (the fixture plugins load whatever path the spec gives)
		c.Set("lua_package_path", customPluginPath+";"+customVaultPath+";"+p+";"+s.base.Get("lua_package_path"), "start_kong")
	}
	return c
}

// Kong's spec/internal/constants.lua: CUSTOM_PLUGIN_PATH and
// CUSTOM_VAULT_PATH, first on every node's lua_package_path.
const (
	customPluginPath = "./spec/fixtures/custom_plugins/?.lua"
	customVaultPath  = "./spec/fixtures/custom_vaults/?.lua;./spec/fixtures/custom_vaults/?/init.lua"
)

func database(strategy string) string {
	if strategy == "off" || strategy == "" {
		return "off"
	}
	return strategy
}

// pluginsConf is the plugins of a spec node: "bundled" (Kong's
// spec/kong_tests.conf's list in Kong's source tree) and plugins (the
// get_db_utils list).
func (s *specNodes) pluginsConf(plugins []string) string {
	ps := []string{"bundled"}
	if s.base != nil && s.base.Source("plugins") == kongTestsConf {
		ps = s.base.List("plugins")
	}
	seen := map[string]bool{}
	for _, p := range ps {
		seen[p] = true
	}
	for _, p := range plugins {
		if !seen[p] {
			seen[p] = true
			ps = append(ps, p)
		}
	}
	return strings.Join(ps, ",")
}

func (s *specNodes) DBUtils(strategy string, plugins []string) (spechelpers.Node, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensureMock(); err != nil {
		return spechelpers.Node{}, err
	}
	s.retire(s.kong)
	s.retire(s.staging)
	s.kong, s.staging = nil, nil
	if s.forced == "off" {
		strategy = "off"
	}
	s.strategy, s.plugins = database(strategy), plugins
	// the staging node serves nothing a spec reaches (Kong has no node
	// before start_kong): any ports, Kong's are kept for start_kong's
	c := s.nodeConf(map[string]string{"database": s.strategy, "plugins": s.pluginsConf(plugins),
		"proxy_listen": anyPorts, "admin_listen": anyPorts})
	if s.strategy != "postgres" {
		sn, err := s.startSpecNode(c, spechelpers.Fixtures{})
		if err != nil {
			return spechelpers.Node{}, err
		}
		s.staging = sn
		s.noteNode(sn)
		return sn.ports(), nil
	}
	// Kong's get_db_utils resets the schema and bootstraps it every time;
	// the outcome, an empty database with every migration run, is had far
	// faster by keeping the schema between runs and emptying its tables in
	// one statement. A database never bootstrapped is bootstrapped; one a
	// node refuses (new migrations of a plugin enabled now) is migrated up
	// and the node started again.
	if err := emptyDatabase(c); err != nil {
		return spechelpers.Node{}, err
	}
	sn, err := s.startSpecNode(c, spechelpers.Fixtures{})
	if err != nil && needsMigrations(err) {
		if err := migrateDatabase(c); err != nil {
			return spechelpers.Node{}, err
		}
		sn, err = s.startSpecNode(c, spechelpers.Fixtures{})
	}
	if err != nil {
		return spechelpers.Node{}, err
	}
	s.staging = sn
	s.noteNode(sn)
	return sn.ports(), nil
}

// keptTables are not emptied between spec files: the migrations'
// bookkeeping, and the default workspace bootstrap made (Kong's
// get_db_utils makes it again: workspaces.upsert_default).
var keptTables = map[string]bool{"schema_meta": true, "locks": true, "workspaces": true}

// emptyDatabase empties every table of the configured schema but
// keptTables, in one TRUNCATE; a database without schema_meta is
// bootstrapped instead (reset first: a half-made schema goes).
func emptyDatabase(c *conf.Config) error {
	ctx := context.Background()
	conn, bootstrapped, err := openTestDatabase(ctx, c)
	if err != nil {
		return fmt.Errorf("get_db_utils: %w", err)
	}
	defer conn.Close()
	if !bootstrapped {
		return bootstrapDatabase(c)
	}
	rows, err := conn.Pool().Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename`, conn.Schema())
	if err != nil {
		return fmt.Errorf("get_db_utils: listing tables: %w", err)
	}
	var all []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		if !keptTables[n] {
			all = append(all, pgx.Identifier{conn.Schema(), n}.Sanitize())
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("get_db_utils: listing tables: %w", err)
	}
	if len(all) == 0 {
		return nil
	}
	// TRUNCATE costs per table (new files for each) even when empty: only
	// the tables holding rows are named, in one statement
	var probe []string
	for i, t := range all {
		probe = append(probe, fmt.Sprintf("SELECT %d WHERE EXISTS (SELECT 1 FROM %s)", i, t))
	}
	rows, err = conn.Pool().Query(ctx, strings.Join(probe, " UNION ALL "))
	if err != nil {
		return fmt.Errorf("get_db_utils: %w", err)
	}
	var names []string
	for rows.Next() {
		var i int
		if err := rows.Scan(&i); err != nil {
			rows.Close()
			return err
		}
		names = append(names, all[i])
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("get_db_utils: %w", err)
	}
	if len(names) == 0 {
		return nil
	}
	if _, err := conn.Pool().Exec(ctx, "TRUNCATE "+strings.Join(names, ", ")+" CASCADE"); err != nil {
		return fmt.Errorf("get_db_utils: emptying the database: %w", err)
	}
	return nil
}

// openTestDatabase connects to c's database, made when missing (Kong's
// test database, kong_tests, made on first use, as Pongo makes it), and
// says whether it was ever bootstrapped.
func openTestDatabase(ctx context.Context, c *conf.Config) (*postgres.Connector, bool, error) {
	cfg := postgres.FromConf(c)
	conn, err := postgres.Open(ctx, cfg)
	if err != nil && strings.Contains(err.Error(), "database \""+cfg.Database+"\" does not exist") {
		if cerr := createDatabase(ctx, cfg); cerr != nil {
			return nil, false, fmt.Errorf("%w (and creating it: %v)", err, cerr)
		}
		conn, err = postgres.Open(ctx, cfg)
	}
	if err != nil {
		return nil, false, err
	}
	_, bootstrapped, err := conn.SchemaMigrations(ctx)
	if err != nil {
		conn.Close()
		return nil, false, err
	}
	return conn, bootstrapped, nil
}

// ensureTestDatabase makes a test run's postgres database usable before
// the run's host connects to it: made when missing, bootstrapped when
// never bootstrapped (the host refuses such a database, and get_db_utils,
// which would have made it, runs only later).
func ensureTestDatabase(c *conf.Config) error {
	conn, bootstrapped, err := openTestDatabase(context.Background(), c)
	if err != nil {
		return err
	}
	conn.Close()
	if !bootstrapped {
		return bootstrapDatabase(c)
	}
	return nil
}

// createDatabase creates cfg's database, connected to the server's
// "postgres" database as cfg's user.
func createDatabase(ctx context.Context, cfg postgres.Config) error {
	other := cfg
	other.Database = "postgres"
	conn, err := postgres.Open(ctx, other)
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.Pool().Exec(ctx, "CREATE DATABASE "+pgx.Identifier{cfg.Database}.Sanitize())
	return err
}

// needsMigrations says whether a node refused to start for want of
// migrations (Kong's check_state messages).
func needsMigrations(err error) bool {
	s := err.Error()
	return strings.Contains(s, "migrations up") || strings.Contains(s, "needs bootstrapping")
}

func migrationsArgs(c *conf.Config) []string {
	var args []string
	for _, k := range c.Keys() {
		args = append(args, "--set", k+"="+c.Get(k))
	}
	return args
}

// bootstrapDatabase is `migrations reset --yes` then `migrations bootstrap`.
func bootstrapDatabase(c *conf.Config) error {
	args := migrationsArgs(c)
	var out bytes.Buffer
	// reset answers 1 on a database never bootstrapped (Kong's "nothing
	// to reset"): bootstrap's own error says what is wrong if anything is
	cmdMigrations(append([]string{"reset", "--yes", "-q"}, args...), strings.NewReader(""), &out, &out)
	out.Reset()
	if code := cmdMigrations(append([]string{"bootstrap", "-q"}, args...), strings.NewReader(""), &out, &out); code != 0 {
		return fmt.Errorf("migrations bootstrap: %s", strings.TrimSpace(out.String()))
	}
	return nil
}

// migrateDatabase is `migrations up` then `migrations finish` (a plugin
// enabled by this spec file brings migrations the database has not run).
func migrateDatabase(c *conf.Config) error {
	args := migrationsArgs(c)
	for _, sub := range []string{"up", "finish"} {
		var out bytes.Buffer
		if code := cmdMigrations(append([]string{sub, "-q"}, args...), strings.NewReader(""), &out, &out); code != 0 {
			return fmt.Errorf("migrations %s: %s", sub, strings.TrimSpace(out.String()))
		}
	}
	return nil
}

func (s *specNodes) StartKong(over map[string]string, fx spechelpers.Fixtures) (spechelpers.Node, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensureMock(); err != nil {
		return spechelpers.Node{}, err
	}
	over = copyMap(over)
	if over["nginx_conf"] != "" {
		// Kong's nginx templates have no meaning here; the key is ignored.
		delete(over, "nginx_conf")
	}
	if over["database"] == "" {
		over["database"] = database(s.strategy)
	}
	if over["plugins"] == "" {
		over["plugins"] = s.pluginsConf(s.plugins)
	}
	// as Kong's start_kong: the blueprints' entities become the DB-less
	// node's declarative_config when get_db_utils wrote them to a DB-less
	// store (Kong's dcbp); after get_db_utils("postgres") a DB-less node
	// starts empty
	if over["database"] == "off" && over["declarative_config"] == "" && over["declarative_config_string"] == "" &&
		s.staging != nil && s.staging.n.Host.Root.DB.Strategy() == "off" {
		var b bytes.Buffer
		if err := declarative.Export(context.Background(), s.staging.n.Host.Root.DB, &b, declarative.ExportOptions{}); err != nil {
			return spechelpers.Node{}, fmt.Errorf("exporting the blueprints' entities: %w", err)
		}
		over["declarative_config_string"] = b.String()
	}
	if s.kong == nil {
		// the mock upstream's logs live in Kong's node (a shared dict):
		// a node started when none runs has none yet
		s.mock.ResetLogs()
	}
	s.retire(s.kong)
	s.retire(s.staging)
	s.kong, s.staging = nil, nil
	sn, err := s.startSpecNode(s.nodeConf(over), fx)
	if err != nil {
		return spechelpers.Node{}, err
	}
	s.kong = sn
	s.noteNode(sn)
	return sn.ports(), nil
}

func (s *specNodes) StopKong() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// stop_kong returns once the node is gone (specs check that the
	// proxy no longer answers)
	s.kong.stop()
	s.kong = nil
	return nil
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// current is start_kong's node, else get_db_utils' staging node.
func (s *specNodes) current() *specNode {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kong != nil {
		return s.kong
	}
	return s.staging
}

func (s *specNodes) Export() (string, error) {
	sn := s.current()
	if sn == nil {
		return "", fmt.Errorf("no database: call helpers.get_db_utils first")
	}
	var b bytes.Buffer
	if err := declarative.Export(context.Background(), sn.n.Host.Root.DB, &b, declarative.ExportOptions{}); err != nil {
		return "", err
	}
	return b.String(), nil
}

func (s *specNodes) Sync() error {
	s.mu.Lock()
	sn := s.kong
	s.mu.Unlock()
	if sn == nil {
		return nil
	}
	ctx := context.Background()
	if err := sn.n.Balancers.Rebuild(ctx); err != nil {
		return err
	}
	if _, err := sn.n.Rebuilder.Rebuild(ctx); err != nil {
		return err
	}
	if c := sn.n.Certificates; c != nil {
		if err := c.Reload(ctx); err != nil {
			return err
		}
	}
	_, err := sn.n.Runloop.Rebuild(ctx)
	return err
}

func (s *specNodes) Exec(args []string, env map[string]string) (int, string, string) {
	for k, v := range env {
		name := "KONG_" + strings.ToUpper(k)
		old, had := os.LookupEnv(name)
		os.Setenv(name, v)
		if had {
			defer os.Setenv(name, old)
		} else {
			defer os.Unsetenv(name)
		}
	}
	var out, errs bytes.Buffer
	code := run(args, &out, &errs)
	return code, out.String(), errs.String()
}

// DB is the current node's store (start_kong's node, else get_db_utils'
// staging node), which spec.helpers' db binds as kong.db: the schemas' Lua
// functions (custom validators, transformations) run in a worker of the
// node, and its CRUD events reach the node's router and plugins iterator
// as an Admin API write's do.
func (s *specNodes) DB() (spechelpers.DB, error) {
	sn := s.current()
	if sn == nil {
		var err error
		if sn, err = s.restage(); err != nil {
			return spechelpers.DB{}, err
		}
	}
	if sn == nil {
		return spechelpers.DB{}, fmt.Errorf("no database: call helpers.get_db_utils first")
	}
	return spechelpers.DB{Root: sn.n.Host.Root, Funcs: sn.n.Host.FuncRunner()}, nil
}

// restage starts a staging node over the database of the node stop_kong
// stopped, for the spec's db (nil when there is none to start: no
// get_db_utils yet, or the embedded store, whose entities went with the
// node).
func (s *specNodes) restage() (*specNode, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kong != nil {
		return s.kong, nil
	}
	if s.staging != nil || s.strategy != "postgres" {
		return s.staging, nil
	}
	c := s.nodeConf(map[string]string{"database": s.strategy, "plugins": s.pluginsConf(s.plugins),
		"proxy_listen": anyPorts, "admin_listen": anyPorts})
	sn, err := s.startSpecNode(c, spechelpers.Fixtures{})
	if err != nil {
		return nil, err
	}
	s.staging = sn
	s.noteNode(sn)
	return sn, nil
}

// AdminAPIName is entity's collection path on the current node's Admin
// API (spec.fixtures.admin_api writes through it).
func (s *specNodes) AdminAPIName(entity string) (string, error) {
	sn := s.current()
	if sn == nil {
		return "", fmt.Errorf("no node: call helpers.get_db_utils first")
	}
	d := sn.n.Host.Root.DB.DAO(entity)
	if d == nil {
		return "", fmt.Errorf("no DAO %q (is its plugin in get_db_utils' list?)", entity)
	}
	return admin.APIName(d.Schema), nil
}
