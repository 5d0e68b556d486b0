package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/host"
	"github.com/luahost/luahost/kongdb/postgres/pgtest"
)

// specHelpersConf is luahost test's configuration in the spec.helpers
// fixture repository (testdata/spechelpers: kong/plugins/add-header and
// its spec/), with PostgreSQL on a fresh database of the test server
// (pgtest: failing, not skipping, under CI=true).
func specHelpersConf(t *testing.T) *conf.Config {
	t.Helper()
	// each_strategy/all_strategies narrow to these when set
	t.Setenv("KONG_DATABASE", "")
	t.Setenv("LUAHOST_STRATEGY", "")
	pg := pgtest.NewDatabase(t)
	c := conf.New()
	c.Append("plugins_dir", "testdata/spechelpers", "test")
	c.Set("plugins", "bundled,add-header", "test")
	c.Set("lua_package_path", "", "test")
	c.Set("mem_cache_size", "4m", "test")
	c.Set("log_level", "error", "test")
	c.Set("pg_host", pg.Host, "test")
	c.Set("pg_port", strconv.Itoa(pg.Port), "test")
	c.Set("pg_user", pg.User, "test")
	c.Set("pg_password", pg.Password, "test")
	c.Set("pg_database", pg.Database, "test")
	return c
}

func runSpecs(t *testing.T, c *conf.Config, paths ...string) (int, string) {
	t.Helper()
	var out, errs bytes.Buffer
	o, rest, err := parseTestArgs(paths)
	if err != nil {
		t.Fatal(err)
	}
	code := cmdTest(c, o, rest, host.DefaultSpecTimeout, &out, &errs)
	return code, out.String() + errs.String()
}

// The plugin template's integration spec, unmodified in shape: for each
// of postgres and off, blueprints, start_kong, proxy_client, and the
// mock upstream seeing the header the plugin set.
func TestSpecHelpersTemplateIntegration(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec/01-integration_spec.lua")
	if code != 0 || !strings.Contains(out, "4 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// spec.helpers' own spec: utilities, blueprint defaults, clients and the
// assertions, on the embedded store.
func TestSpecHelpersOwnSpec(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/helpers_spec.lua")
	if code != 0 || !strings.Contains(out, "29 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// assert.eventually, Kong's spec/helpers/wait.lua builder: retried until
// its condition, failing with the last value and error.
func TestSpecHelpersEventually(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/eventually_spec.lua")
	if code != 0 || !strings.Contains(out, "4 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// A failed res_status is a failure (not an error) at the spec's line, with
// Kong's message and the body.
func TestSpecHelpersResStatusFailure(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/failing_spec.lua")
	if code != 1 || !strings.Contains(out, "0 successes / 1 failure / 0 errors") ||
		!strings.Contains(out, "failing_spec.lua:13: Invalid response status code '503':") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// The template's schema spec through validate_plugin_config_schema, and
// setenv; `luahost test` with no path finds spec/ (both files).
func TestSpecHelpersUnitSpec(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec/02-unit_spec.lua")
	if code != 0 || !strings.Contains(out, "3 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// A second get_db_utils in one run truncates what the first wrote.
func TestSpecHelpersGetDBUtilsTruncates(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/truncate_spec.lua")
	if code != 0 || !strings.Contains(out, "1 success / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// spec.helpers.http_mock (routes' code, sessions logged, eventually),
// tcp_server (with tls too; talked to with ngx.socket.tcp), kill_tcp_server,
// udp_server and the spec.internal modules.
func TestSpecHelpersServers(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/servers_spec.lua")
	if code != 0 || !strings.Contains(out, "9 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// A failed assertion on a proxied response names the spec's file:line and
// the plugin handlers the proxy ran for that request; one on another
// client's response shows none.
func TestSpecHelpersProxyFailureShowsPhases(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/proxy_failure_spec.lua")
	if code != 1 || !strings.Contains(out, "0 successes / 3 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{
		"proxy_failure_spec.lua:18: Invalid response status code '200':",
		"Plugins run by the proxy for this request:\n  access: add-header\n  header_filter: add-header",
		"proxy_failure_spec.lua:23: Expected header 'x-absent' to be present in the response\nPlugins run by the proxy for this request:\n  access: add-header",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if i := strings.Index(out, "proxy_failure_spec.lua:28:"); i < 0 || strings.Contains(out[i:], "Plugins run by the proxy") {
		t.Errorf("another client's response shows a trace:\n%s", out)
	}
}

// Kong's gRPC spec helpers: grpcbin_* constants pointing at the run's
// grpcbin look-alike, grpc_client, and proxy_client_grpc(s) through a
// node's cleartext http2 and TLS entries (replies, -v headers a plugin
// set, streams, reflection, error statuses).
func TestSpecHelpersGRPC(t *testing.T) {
	c := specHelpersConf(t)
	for _, k := range []string{"HOST", "PORT", "SSL_PORT"} {
		t.Setenv("KONG_SPEC_TEST_GRPCBIN_"+k, "")
	}
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/grpc_spec.lua")
	if code != 0 || !strings.Contains(out, "7 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// KONG_SPEC_TEST_GRPCBIN_HOST/PORT/SSL_PORT point the grpcbin constants
// elsewhere, with Kong's default ports for those not given.
func TestSpecHelpersGRPCBinFromEnv(t *testing.T) {
	c := specHelpersConf(t)
	t.Setenv("KONG_SPEC_TEST_GRPCBIN_HOST", "grpcbin.test")
	t.Setenv("KONG_SPEC_TEST_GRPCBIN_PORT", "")
	t.Setenv("KONG_SPEC_TEST_GRPCBIN_SSL_PORT", "19001")
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/grpcbin_env_spec.lua")
	if code != 0 || !strings.Contains(out, "1 success / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// spec.helpers' dns_mock: Kong's record layout and defaults; start_kong's
// fixtures.dns_mock answering a Service host (A, SRV with its port) and an
// upstream's target, mocks_only's 503 for a name not mocked, a plugin's
// ngx.socket.tcp and udp reaching a mocked name (Kong's cosocket DNS
// failure for another), and a second start_kong without the mock.
func TestSpecHelpersDNSMock(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/dns_mock_spec.lua")
	if code != 0 || !strings.Contains(out, "10 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// allow_debug_header through start_kong: Kong-Debug gets the Route's and
// Service's ids and names (only those they have) when on, nothing when off
// or without the header.
func TestSpecHelpersDebugHeader(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/debug_header_spec.lua")
	if code != 0 || !strings.Contains(out, "6 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// The mock upstream's TLS side: Kong's mock_upstream_ssl_* constants, a
// direct request over TLS, and a Service with url = mock_upstream_ssl_url
// proxied through a node answering as the plain one.
func TestSpecHelpersMockUpstreamSSL(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/mock_ssl_spec.lua")
	if code != 0 || !strings.Contains(out, "3 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// The mock upstream's log endpoints as a log plugin's spec uses them: a
// fixture plugin's log phase POSTs from a timer with resty.http to
// /post_log/mylog, the spec waits on /read_log/mylog, then count_log and
// reset_log.
func TestSpecHelpersMockUpstreamLogs(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/post_log_spec.lua")
	if code != 0 || !strings.Contains(out, "3 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// redis_*, zipkin_*, otelcol_*, blackhole_host, bin_path and
// external_plugins_path: KONG_SPEC_TEST_* win over Kong's defaults.
func TestSpecHelpersServiceConstants(t *testing.T) {
	c := specHelpersConf(t)
	for _, k := range []string{"REDIS_HOST", "REDIS_SSL_PORT", "REDIS_AUTH_PORT", "ZIPKIN_HOST", "ZIPKIN_PORT",
		"OTELCOL_HOST", "OTELCOL_HTTP_PORT", "OTELCOL_ZPAGES_PORT", "OTELCOL_FILE_EXPORTER_PATH"} {
		t.Setenv("KONG_SPEC_TEST_"+k, "")
		os.Unsetenv("KONG_SPEC_TEST_" + k)
	}
	t.Setenv("KONG_SPEC_TEST_REDIS_PORT", "6390")
	t.Setenv("KONG_SPEC_TEST_REDIS_SSL_SNI", "sni.test")
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/constants_spec.lua")
	if code != 0 || !strings.Contains(out, "2 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// A spec talks to the redis at helpers.redis_host:redis_port through
// resty.redis (the machine's server on 6379; none is a failure under
// CI=true).
func TestSpecHelpersRedis(t *testing.T) {
	conn, err := net.Dial("tcp", "127.0.0.1:6379")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no redis on 127.0.0.1:6379 (CI=true): %v", err)
		}
		t.Skipf("no redis on 127.0.0.1:6379: %v", err)
	}
	conn.Close()
	c := specHelpersConf(t)
	for _, k := range []string{"REDIS_HOST", "REDIS_PORT"} {
		t.Setenv("KONG_SPEC_TEST_"+k, "")
		os.Unsetenv("KONG_SPEC_TEST_" + k)
	}
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/redis_spec.lua")
	if code != 0 || !strings.Contains(out, "1 success / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// execute, Penlight's file/dir/path, wait_for_file(_contents),
// make_temp_dir, generate_keys, the HTTP/2 clients, synchronized clients,
// get_kong_workers, reload_kong, kill_all, table.clone set, and the
// helpers luahost refuses with a reason.
func TestSpecHelpersMore(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/more_helpers_spec.lua")
	if code != 0 || !strings.Contains(out, "9 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// wait_timer over the Admin API's GET /timers: a fixture plugin's timers,
// one named through kong.timer, one named after its call site, waited for
// running and finished.
func TestSpecHelpersWaitTimer(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/timers_spec.lua")
	if code != 0 || !strings.Contains(out, "2 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// ngx.thread in the spec runner's own state: proxy requests made in light
// threads and waited on, a yielded thread resumed by wait, a failed one.
func TestSpecHelpersLightThreads(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/threads_spec.lua")
	if code != 0 || !strings.Contains(out, "2 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// spec.fixtures.ssl: Kong's keys; certificates and SNIs made from them
// through bp (the client chain and the CA too) and served by their names.
func TestSpecHelpersSSLFixtures(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/ssl_fixtures_spec.lua")
	if code != 0 || !strings.Contains(out, "3 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// kong.conf_loader: defaults, a file, KONG_* and custom_conf, typed as
// kong.configuration, with the listeners Kong derives and its refusals.
func TestSpecHelpersConfLoader(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/conf_loader_spec.lua")
	if code != 0 || !strings.Contains(out, "4 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// privateRedis starts a redis-server of the test's own on a free port of
// 127.0.0.1 (redis_helper's reset_redis flushes every database, which the
// machine's shared server must not see), stopped at the test's end; no
// redis-server is a failure under CI=true.
func privateRedis(t *testing.T) int {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no redis-server (CI=true): %v", err)
		}
		t.Skipf("no redis-server: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--daemonize", "no", "--dir", t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	// ready when it says so
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "Ready to accept connections") {
			go func() { _, _ = io.Copy(io.Discard, out) }()
			return port
		}
	}
	t.Fatalf("redis-server on %d did not start", port)
	return 0
}

// spec.helpers.redis_helper: connect with the server's version, reset_redis,
// ACL users added and removed, on a redis of the test's own.
func TestSpecHelpersRedisHelper(t *testing.T) {
	port := privateRedis(t)
	c := specHelpersConf(t)
	t.Setenv("KONG_SPEC_TEST_REDIS_HOST", "127.0.0.1")
	t.Setenv("KONG_SPEC_TEST_REDIS_PORT", strconv.Itoa(port))
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/redis_helper_spec.lua")
	if code != 0 || !strings.Contains(out, "3 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// spec.internal.module (reload, reload_helpers and the flavor luahost
// refuses), resty.shell and kong.tools.time in a spec.
func TestSpecHelpersModules(t *testing.T) {
	c := specHelpersConf(t)
	t.Setenv("KONG_ROUTER_FLAVOR", "")
	os.Unsetenv("KONG_ROUTER_FLAVOR")
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/modules_spec.lua")
	if code != 0 || !strings.Contains(out, "4 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// spec.hybrid's run_for_each_deploy (Kong 3.9's plugin specs): the body
// on a traditional node per strategy with patched helpers, and each of the
// three hybrid deployments Kong runs per database strategy pending.
func TestSpecHybridTraditionalOnly(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/hybrid_spec.lua")
	if code != 0 || !strings.Contains(out, "3 successes / 0 failures / 0 errors / 3 pending") ||
		!strings.Contains(out, "hybrid deployment not run: luahost has no hybrid mode") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// spec.fixtures.admin_api, required before get_db_utils: blueprints
// writing through the node's Admin API (a plugin's own entity under its
// admin_api_name, targets under their upstream), the proxy seeing each
// insert, update, remove and truncate, and "Error <status>: <body>"; on
// postgres and on the embedded store.
func TestSpecHelpersAdminAPIFixture(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/admin_api_spec.lua")
	if code != 0 || !strings.Contains(out, "16 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// spec.fixtures.blueprints required directly: blueprints.new(db) over
// get_db_utils' db (the builder of its bp), defaults and sequences (an
// sni's certificate from spec.fixtures.ssl), a plugin's own entity, update, remove, truncate, and the node serving it.
func TestSpecHelpersBlueprintsModule(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/blueprints_spec.lua")
	if code != 0 || !strings.Contains(out, "14 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// kong.log.serialize's route, service and workspace carry the default
// workspace's id, as Kong's router reads them (show_ws_id), on both
// strategies.
func TestSpecSerializeWorkspaceFields(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/serialize_ws_spec.lua")
	if code != 0 || strings.Contains(out, "0 successes") || !strings.Contains(out, " 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// luahost test sets KONG_IS_TESTING=1 as Kong's bin/busted does, unless
// the user set it.
func TestSpecKongIsTesting(t *testing.T) {
	c := specHelpersConf(t)
	t.Setenv("KONG_IS_TESTING", "")
	os.Unsetenv("KONG_IS_TESTING")
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/is_testing_spec.lua")
	if code != 0 || !strings.Contains(out, "1 success / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	t.Setenv("KONG_IS_TESTING", "0")
	if code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/is_testing_spec.lua"); code == 0 {
		t.Fatalf("KONG_IS_TESTING=0 was not kept:\n%s", out)
	}
}

// The mock upstream's /post_log logs are emptied when start_kong starts
// a node while none runs, as Kong's live in the node's shared dict.
func TestSpecMockLogsAcrossRestarts(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/mock_logs_restart_spec.lua")
	if code != 0 || !strings.Contains(out, "1 success / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// POST /config runs the plugins' schema functions (a custom_validator)
// in a worker: it failed for want of a FuncRunner.
func TestSpecHelpersConfigPostRunsValidators(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/config_post_spec.lua")
	if code != 0 || !strings.Contains(out, "1 success / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// spec.helpers.https_server (Kong's nginx mock web server): its
// locations, host health, records and counts, TLS with check_hostname,
// and a node proxying to it.
func TestSpecHelpersHTTPSServer(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/https_server_spec.lua")
	if code != 0 || !strings.Contains(out, "3 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// spec.helpers.wait's eventual assertions (assert.with_timeout(...)
// .eventually(fn).has_no_error(), wait_until), which Kong's spec.helpers
// registers.
func TestSpecHelpersWait(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/wait_spec.lua")
	if code != 0 || !strings.Contains(out, "2 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// get_db_utils' db is kong.db as a worker has it, over the current node's
// store: every DAO method family with Kong's results and errors (err_t
// codes, argument errors raised), schemas' Lua functions run in a worker
// of the node, cache keys, truncate, the connector on postgres, and the
// db following start_kong's node, its writes seen by the next request.
func TestSpecHelpersDB(t *testing.T) {
	c := specHelpersConf(t)
	c.Set("plugins", "bundled,add-header,label-key", "test")
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/db_spec.lua")
	if code != 0 || !strings.Contains(out, "18 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// The shims' own specs (spec/shims: the sandbox's, ...) pass under
// luahost test.
func TestShimSpecs(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "../../spec/shims")
	if code != 0 || !strings.Contains(out, " 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// db:reset (Kong's DB:reset): every table dropped, get_db_utils then
// bootstraps again; not implemented on the embedded store.
func TestSpecHelpersDBReset(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/db_reset_spec.lua")
	if code != 0 || !strings.Contains(out, "2 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// router_flavor = traditional: path_handling v1 honoured, as Kong's
// traditional router does; traditional_compatible answers as v0.
func TestSpecHelpersRouterFlavorTraditional(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/router_flavor_spec.lua")
	if code != 0 || !strings.Contains(out, "2 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// get_db_utils' db, its DAO objects, blueprints and connector still work
// after stop_kong (Kong's is a DB object of the spec's own).
func TestSpecHelpersDBAfterStopKong(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/db_after_stop_spec.lua")
	if code != 0 || !strings.Contains(out, "2 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// stop_kong empties the error log (Kong's removes the node's prefix)
// unless told to preserve it, as restart_kong does.
func TestSpecStopKongCleansErrorLog(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/stop_kong_log_spec.lua")
	if code != 0 || !strings.Contains(out, "1 success / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// start_kong{ plugins = false } is the default plugins, as with Kong's
// kong_exec (it failed: "false plugin is enabled but not installed").
func TestSpecHelpersStartKongPluginsFalse(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/plugins_false_spec.lua")
	if code != 0 || !strings.Contains(out, "1 success / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// A DB-less start_kong after get_db_utils("postgres") starts empty, as
// Kong's (its blueprints' entities are a DB-less node's configuration only
// when get_db_utils wrote them DB-less).
func TestSpecHelpersDBLessStartAfterPostgres(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/dbless_start_spec.lua")
	if code != 0 || !strings.Contains(out, "2 successes / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

// The Admin API's health endpoints see the balancers of the writes
// answered before them (no "no healthchecker found" while the background
// rebuild is pending).
func TestSpecHelpersTargetHealthAfterWrite(t *testing.T) {
	c := specHelpersConf(t)
	code, out := runSpecs(t, c, "testdata/spechelpers/spec-helpers/target_health_spec.lua")
	if code != 0 || !strings.Contains(out, "1 success / 0 failures / 0 errors") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}
