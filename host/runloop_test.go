package host

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/kongdb/schema"
	"github.com/luahost/luahost/proxy"
	"github.com/luahost/luahost/router"
)

// rlNode is a host serving a proxy whose Phases are the host's Runloop,
// over real sockets, with an upstream echoing what it received.
type rlNode struct {
	h      *Host
	logs   *logBuffer
	rl     *Runloop
	rt     *router.Versioned
	p      *proxy.Proxy
	base   string
	upPort int
	// tlsAddr is the ssl listener's address, when the proxy's
	// configuration has GetCertificate (its Certificate is then the
	// runloop's unless set)
	tlsAddr string
}

func newRLNode(t testing.TB, c *conf.Config) *rlNode {
	t.Helper()
	return newRLNodeWith(t, c, proxy.Config{})
}

// newRLNodeWith is newRLNode with the proxy's configuration pc (its
// KongVersion and Logger set here).
func newRLNodeWith(t testing.TB, c *conf.Config, pc proxy.Config) *rlNode {
	t.Helper()
	logs := &logBuffer{}
	h, err := New(Options{Conf: c, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	n := &rlNode{h: h, logs: logs, rl: NewRunloop(h), rt: &router.Versioned{}}
	pc.KongVersion, pc.Logger = "3.9.1", quietLogger()
	listen := "127.0.0.1:0"
	if pc.GetCertificate != nil {
		listen += ", 127.0.0.1:0 ssl"
		if pc.Certificate == nil {
			pc.Certificate = n.rl.Certificate
		}
	}
	p := proxy.New(n.rt, pc)
	p.Phases = n.rl
	n.p = p
	ls, err := proxy.ParseListen("proxy_listen", listen)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := p.Listen(ls)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	n.base = "http://" + srv.Addrs[0].String()
	if len(srv.Addrs) > 1 {
		n.tlsAddr = srv.Addrs[1].String()
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	up := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "upstream %s consumer=%s", r.URL.Path, r.Header.Get("X-Consumer-Seen"))
	})}
	go up.Serve(ln)
	t.Cleanup(func() { up.Close() })
	n.upPort = ln.Addr().(*net.TCPAddr).Port
	if _, err := n.rl.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	return n
}

func (n *rlNode) insert(t testing.TB, dao string, row map[string]any) map[string]any {
	t.Helper()
	out, err := n.h.Root.DB.DAO(dao).Insert(context.Background(), row, nil)
	if err != nil {
		t.Fatalf("insert %s: %v", dao, err)
	}
	return out
}

// sync rebuilds the router and the plugin iterator from the database now.
func (n *rlNode) sync(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	all := func(name string) []map[string]any {
		it, err := n.h.Root.DB.DAO(name).Each(ctx, 1000, map[string]any{"workspace": schema.Null})
		if err != nil {
			t.Fatal(err)
		}
		var rows []map[string]any
		for r, err := range it {
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, r)
		}
		return rows
	}
	if _, err := n.rt.RebuildFromRows(all("routes"), all("services")); err != nil {
		t.Fatal(err)
	}
	if _, err := n.rl.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}
}

// route adds a service to the upstream and a route on path to it.
func (n *rlNode) route(t testing.TB, path string) (route, service string) {
	t.Helper()
	svc := n.insert(t, "services", map[string]any{"protocol": "http", "host": "127.0.0.1", "port": float64(n.upPort)})
	r := n.insert(t, "routes", map[string]any{"paths": []any{path}, "service": map[string]any{"id": svc["id"]}})
	return r["id"].(string), svc["id"].(string)
}

func (n *rlNode) plugin(t testing.TB, name string, scope map[string]string, config map[string]any) map[string]any {
	t.Helper()
	row := map[string]any{"name": name, "config": config}
	for k, id := range scope {
		row[k] = map[string]any{"id": id}
	}
	return n.insert(t, "plugins", row)
}

func (n *rlNode) get(t *testing.T, path string) (int, string) {
	t.Helper()
	code, body, _ := n.getH(t, path)
	return code, body
}

func (n *rlNode) getH(t *testing.T, path string) (int, string, http.Header) {
	t.Helper()
	res, err := http.Get(n.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

// logBuffer collects the host's log lines.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// takeTrace returns and clears what the trace plugins recorded, once the
// request's log phase recorded want entries of it (log may run after the
// response is sent).
func (n *rlNode) takeTrace(t *testing.T, logs int) string {
	t.Helper()
	d := n.h.Root.SharedDict("kong")
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, _ := d.Get("trace")
		s, _ := v.(string)
		if strings.Count(s, ":log:") >= logs {
			d.Delete("trace")
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %q: never %d log entries", s, logs)
		}
		time.Sleep(5 * time.Millisecond) // polling the observable condition
	}
}

func iterConf(t *testing.T) *conf.Config {
	c := testConf(t, "testdata/iter")
	c.Set("worker_max", "2", "test")
	// long: a phase of a loaded machine under -race must not hit it; the
	// tests of a runaway handler set spinConf's short one
	c.Set("lua_timeout", "20000", "test")
	return c
}

// spinConf is iterConf with the 300 ms lua_timeout the runaway-handler
// tests stop their spinning plugin with.
func spinConf(t *testing.T) *conf.Config {
	c := iterConf(t)
	c.Set("lua_timeout", "300", "test")
	return c
}

// Kong's phase order and plugin order on a proxied request: rewrite
// (global plugins only), access (every plugin with a configuration for the
// route, in priority order, ties by name descending), then the filters
// and log of the plugins access collected, each with the configuration
// access found.
func TestRunloopPhaseOrder(t *testing.T) {
	n := newRLNode(t, iterConf(t))
	route, _ := n.route(t, "/a")
	n.plugin(t, "trace-a", nil, map[string]any{"tag": "global"})
	n.plugin(t, "trace-b", map[string]string{"route": route}, map[string]any{"tag": "route"})
	n.plugin(t, "trace-c", nil, map[string]any{"tag": "global"})
	n.sync(t)

	if code, body := n.get(t, "/a/x"); code != 200 || !strings.HasPrefix(body, "upstream /x") {
		t.Fatalf("%d %q", code, body)
	}
	want := "trace-a:rewrite:global trace-c:rewrite:global " +
		"trace-a:access:global trace-c:access:global trace-b:access:route " +
		"trace-a:header_filter:global trace-c:header_filter:global trace-b:header_filter:route " +
		"trace-a:body_filter:global trace-c:body_filter:global trace-b:body_filter:route " +
		"trace-a:log:global trace-c:log:global trace-b:log:route"
	if got := n.takeTrace(t, 3); got != want {
		t.Errorf("trace\n got %s\nwant %s", got, want)
	}

	// No route matched: access never ran, the filters and log run the
	// global plugins (plugins_iterator.lua get_collected_iterator).
	if code, _ := n.get(t, "/nowhere"); code != 404 {
		t.Fatalf("status %d", code)
	}
	want = "trace-a:rewrite:global trace-c:rewrite:global " +
		"trace-a:header_filter:global trace-c:header_filter:global " +
		"trace-a:body_filter:global trace-c:body_filter:global " +
		"trace-a:log:global trace-c:log:global"
	if got := n.takeTrace(t, 2); got != want {
		t.Errorf("404 trace\n got %s\nwant %s", got, want)
	}
}

// Consumer-scoped configurations apply to the plugins that run after the
// one that authenticated (ngx.ctx.authenticated_consumer is read after
// each plugin), never to those before it.
func TestRunloopConsumerConfigAfterAuth(t *testing.T) {
	n := newRLNode(t, iterConf(t))
	route, service := n.route(t, "/c")
	consumer := n.insert(t, "consumers", map[string]any{"username": "carol"})["id"].(string)
	n.plugin(t, "auth-lite", map[string]string{"route": route}, map[string]any{"consumer_id": consumer, "tag": "auth"})
	n.plugin(t, "trace-b", map[string]string{"route": route}, map[string]any{"tag": "route"})
	n.plugin(t, "trace-b", map[string]string{"consumer": consumer}, map[string]any{"tag": "consumer"})
	n.plugin(t, "trace-b", map[string]string{"service": service, "consumer": consumer}, map[string]any{"tag": "service+consumer"})
	n.plugin(t, "trace-c", map[string]string{"consumer": consumer}, map[string]any{"tag": "consumer-only"})
	n.sync(t)

	if code, body := n.get(t, "/c"); code != 200 {
		t.Fatalf("%d %q", code, body)
	}
	want := "auth-lite:access:auth trace-c:access:consumer-only trace-b:access:service+consumer " +
		"trace-c:header_filter:consumer-only trace-b:header_filter:service+consumer " +
		"trace-c:body_filter:consumer-only trace-b:body_filter:service+consumer " +
		"trace-c:log:consumer-only trace-b:log:service+consumer"
	if got := n.takeTrace(t, 2); got != want {
		t.Errorf("trace\n got %s\nwant %s", got, want)
	}
}

// configure(configs) runs in a worker with every enabled configuration of
// the plugin (with Kong's __key__ and __seq__) when the iterator is built,
// and again after a plugins CRUD event rebuilt it.
func TestRunloopConfigureAndRebuildOnCRUD(t *testing.T) {
	c := iterConf(t)
	c.Set("worker_max", "1", "test")
	n := newRLNode(t, c)
	n.route(t, "/r")
	other, _ := n.route(t, "/other")
	n.plugin(t, "trace-b", map[string]string{"route": other}, map[string]any{"tag": "other"})
	n.sync(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n.rl.Debounce = time.Millisecond
	stop := n.rl.Watch()
	defer stop()
	ran := make(chan struct{})
	go func() { n.rl.Run(ctx); close(ran) }()

	d := n.h.Root.SharedDict("kong")
	// no plugin configured for the route: a request borrows no worker
	before := n.h.Pool.Stat().Acquired
	if code, _ := n.get(t, "/r"); code != 200 {
		t.Fatalf("status %d", code)
	}
	if got := n.h.Pool.Stat().Acquired; got != before {
		t.Errorf("a request with no plugin borrowed a worker (%d -> %d)", before, got)
	}

	n.plugin(t, "trace-a", nil, map[string]any{"tag": "one"})
	disabled := n.plugin(t, "trace-a", map[string]string{"route": other}, map[string]any{"tag": "off"})
	if _, err := n.h.Root.DB.DAO("plugins").Update(context.Background(), map[string]any{"id": disabled["id"]},
		map[string]any{"enabled": false}, nil); err != nil {
		t.Fatal(err)
	}
	// The CRUD events rebuild the iterator; the next request runs the
	// plugin, and configure sees the enabled configuration (with __key__
	// and __seq__) once the last write is built (a rebuild may come between
	// the writes).
	deadline := time.Now().Add(10 * time.Second)
	for {
		n.get(t, "/r")
		v, _ := d.Get("trace")
		conf, _ := d.Get("configure:0")
		if v != nil && strings.Contains(v.(string), "trace-a:log:one") && conf == "one/true/true" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the plugin inserted never ran with configure seeing only it: trace %v, configure %v", v, conf)
		}
		time.Sleep(5 * time.Millisecond) // waiting for the asynchronous rebuild
	}
	// Stop following changes (a late trigger would rebuild once more),
	// and let the worker take the last build.
	cancel()
	<-ran
	n.get(t, "/r")
	calls, _ := d.Get("configure:calls")

	// A rebuild without a change in this worker's configs still calls
	// configure again (Kong calls it after every build), at once in an
	// idle worker. (The worker goes back to the pool after log, which may
	// follow the response.)
	deadline = time.Now().Add(10 * time.Second)
	for st := n.h.Pool.Stat(); st.Idle != st.Total; st = n.h.Pool.Stat() {
		if time.Now().After(deadline) {
			t.Fatalf("the worker never went back to the pool: %+v", st)
		}
		time.Sleep(5 * time.Millisecond) // polling the observable condition
	}
	if _, err := n.rl.Rebuild(context.Background()); err != nil {
		t.Fatal(err)
	}
	if again, _ := d.Get("configure:calls"); again.(float64) != calls.(float64)+1 {
		t.Errorf("configure calls %v then %v after a rebuild", calls, again)
	}
	// and a request on the same build does not
	n.get(t, "/r")
	if again, _ := d.Get("configure:calls"); again.(float64) != calls.(float64)+1 {
		t.Errorf("configure called per request: %v then %v", calls, again)
	}
}

// A Lua error in access answers Kong's 500 ("An unexpected error
// occurred"), skips the remaining access handlers but still runs the
// collected filters and log; a handler looping forever is stopped by
// lua_timeout with the same 500, its worker replaced; the next requests
// are served.
func TestRunloopErrorsCostOnlyTheirRequest(t *testing.T) {
	n := newRLNode(t, spinConf(t))
	failRoute, _ := n.route(t, "/fail")
	spinRoute, _ := n.route(t, "/spin")
	n.route(t, "/ok")
	n.plugin(t, "trace-a", map[string]string{"route": failRoute}, map[string]any{"tag": "fail", "fail": true})
	n.plugin(t, "trace-b", map[string]string{"route": failRoute}, map[string]any{"tag": "after"})
	n.plugin(t, "trace-a", map[string]string{"route": spinRoute}, map[string]any{"tag": "spin", "spin": true})
	n.plugin(t, "trace-c", nil, map[string]any{"tag": "global"})
	n.sync(t)

	code, body, hdr := n.getH(t, "/fail")
	if code != 500 || !strings.Contains(body, `"message":"An unexpected error occurred"`) {
		t.Errorf("access error: %d %q", code, body)
	}
	// one log line naming plugin, phase, file:line and the request id
	wantLog := `msg="plugin 'trace-a' (access): kong/plugins/trace-a/trace.lua:19: failing on purpose" request_id=` +
		hdr.Get("X-Kong-Request-Id")
	if logs := n.logs.String(); strings.Count(logs, wantLog) != 1 {
		t.Errorf("log:\n%s\nwant one line with %s", logs, wantLog)
	}
	want := "trace-c:rewrite:global trace-a:access:fail " +
		"trace-a:header_filter:fail trace-c:header_filter:global trace-b:header_filter:after " +
		"trace-a:body_filter:fail trace-c:body_filter:global trace-b:body_filter:after " +
		"trace-a:log:fail trace-c:log:global trace-b:log:after"
	if got := n.takeTrace(t, 3); got != want {
		t.Errorf("trace\n got %s\nwant %s", got, want)
	}
	if code, body := n.get(t, "/ok"); code != 200 || !strings.HasPrefix(body, "upstream /") {
		t.Errorf("next request: %d %q", code, body)
	}
	n.takeTrace(t, 1)

	discarded := n.h.Pool.Stat().Discarded
	code, body = n.get(t, "/spin")
	if code != 500 || !strings.Contains(body, "An unexpected error occurred") {
		t.Errorf("runaway access: %d %q", code, body)
	}
	if logs := n.logs.String(); !strings.Contains(logs, "plugin 'trace-a' (access): kong/plugins/trace-a/trace.lua:22: execution stopped: it ran longer than its 300ms deadline (lua_timeout)") {
		t.Errorf("log:\n%s\nwant the runaway's line", logs)
	}
	// the worker goes back to the pool after log, which may follow the response
	deadline := time.Now().Add(10 * time.Second)
	for n.h.Pool.Stat().Discarded != discarded+1 {
		if time.Now().After(deadline) {
			t.Fatalf("discarded workers %d -> %d, want the runaway's replaced", discarded, n.h.Pool.Stat().Discarded)
		}
		time.Sleep(5 * time.Millisecond) // polling the observable condition
	}
	for i := 0; i < 3; i++ {
		if code, _ := n.get(t, "/ok"); code != 200 {
			t.Errorf("request after the runaway: %d", code)
		}
	}
}

// A request the proxy could not read (400) still runs the global plugins'
// filters and log, and gives their worker back: with one worker, the next
// request is served.
func TestRunloopMalformedRequestReturnsWorker(t *testing.T) {
	c := iterConf(t)
	c.Set("worker_max", "1", "test")
	n := newRLNode(t, c)
	n.route(t, "/m")
	n.plugin(t, "trace-a", nil, map[string]any{"tag": "g"})
	n.sync(t)

	conn, err := net.Dial("tcp", strings.TrimPrefix(n.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /m HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	status, _ := io.ReadAll(io.LimitReader(conn, 12))
	if string(status) != "HTTP/1.1 400" {
		t.Fatalf("malformed request answered %q", status)
	}
	if got := n.takeTrace(t, 1); got != "trace-a:header_filter:g trace-a:body_filter:g trace-a:log:g" {
		t.Errorf("trace %q", got)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	res, err := client.Get(n.base + "/m")
	if err != nil {
		t.Fatalf("next request (worker not given back?): %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("next request: %d", res.StatusCode)
	}
}

// A failing configure is logged as Kong logs it, and the plugin still
// runs with its configurations.
func TestRunloopConfigureErrorIsLogged(t *testing.T) {
	n := newRLNode(t, iterConf(t))
	route, _ := n.route(t, "/k")
	n.plugin(t, "trace-a", map[string]string{"route": route}, map[string]any{"tag": "configure-fails"})
	n.sync(t)
	if code, _ := n.get(t, "/k"); code != 200 {
		t.Fatalf("status %d", code)
	}
	if got := n.takeTrace(t, 1); !strings.Contains(got, "trace-a:access:configure-fails") {
		t.Errorf("trace %q", got)
	}
	want := `msg="failed to execute plugin 'trace-a:configure (kong/plugins/trace-a/handler.lua:12: configure failed on purpose)"`
	if logs := n.logs.String(); !strings.Contains(logs, want) {
		t.Errorf("log:\n%s\nwant %s", logs, want)
	}
}

// A plugin with a response handler makes access ask for the whole
// upstream response (Kong's buffered proxying); its response handler runs
// between the upstream and header_filter.
func TestRunloopResponsePhase(t *testing.T) {
	n := newRLNode(t, iterConf(t))
	route, _ := n.route(t, "/resp")
	n.plugin(t, "resp-phase", map[string]string{"route": route}, map[string]any{"tag": "r"})
	n.plugin(t, "trace-b", map[string]string{"route": route}, map[string]any{"tag": "b"})
	n.sync(t)
	code, body, hdr := n.getH(t, "/resp/abc")
	if code != 200 || hdr.Get("X-Upstream-Body") != fmt.Sprintf("200:%d", len(body)) {
		t.Errorf("%d %q X-Upstream-Body %q", code, body, hdr.Get("X-Upstream-Body"))
	}
	want := "resp-phase:access:r trace-b:access:b resp-phase:response:r " +
		"trace-b:header_filter:b trace-b:body_filter:b resp-phase:log:r trace-b:log:b"
	if got := n.takeTrace(t, 2); got != want {
		t.Errorf("trace\n got %s\nwant %s", got, want)
	}
}

// Requests served while the iterator is rebuilt over and over: every one
// is answered, each worker switching builds between its requests.
func TestRunloopRequestsDuringRebuilds(t *testing.T) {
	n := newRLNode(t, iterConf(t))
	route, _ := n.route(t, "/busy")
	n.plugin(t, "noop", map[string]string{"route": route}, map[string]any{})
	n.plugin(t, "trace-a", nil, map[string]any{"tag": "g"})
	n.sync(t)
	done := make(chan struct{})
	rebuilt := make(chan int)
	go func() {
		k := 0
		for {
			select {
			case <-done:
				rebuilt <- k
				return
			default:
			}
			if _, err := n.rl.Rebuild(context.Background()); err != nil {
				t.Error(err)
			}
			k++
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				res, err := http.Get(n.base + "/busy")
				if err != nil {
					errs <- err.Error()
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					errs <- res.Status
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	if k := <-rebuilt; k == 0 {
		t.Error("no rebuild happened during the requests")
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// A Route without a Service runs its access plugins first (token-auth's
// 401), and only then gets Kong's 503.
func TestRunloopRouteWithoutService(t *testing.T) {
	c := testConf(t, "../plugins", "testdata/iter")
	n := newRLNode(t, c)
	route := n.insert(t, "routes", map[string]any{"paths": []any{"/nosvc"}})
	consumer := n.insert(t, "consumers", map[string]any{"username": "dora"})
	n.insert(t, "token_credentials", map[string]any{"consumer": map[string]any{"id": consumer["id"]}, "key": "dora-key"})
	n.plugin(t, "token-auth", map[string]string{"route": route["id"].(string)}, map[string]any{})
	n.sync(t)
	if code, body := n.get(t, "/nosvc"); code != 401 || body != `{"message":"No API token found in request"}` {
		t.Errorf("no token: %d %q", code, body)
	}
	req, _ := http.NewRequest("GET", n.base+"/nosvc", nil)
	req.Header.Set("X-Api-Token", "dora-key")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 503 || !strings.Contains(string(b), `"message":"no Service found with those values"`) {
		t.Errorf("authenticated: %d %q", res.StatusCode, b)
	}
}

// The request PDK's own work at each phase happens also in phases where
// no plugin runs: a response header set in access is put back on the
// upstream's response, and log reads the client's request as plugins left
// it, not the request sent upstream (no Via the proxy added).
func TestRunloopPhasesWithoutPlugins(t *testing.T) {
	n := newRLNode(t, iterConf(t))
	route, _ := n.route(t, "/ah")
	n.plugin(t, "access-header", map[string]string{"route": route}, map[string]any{})
	logged, _ := n.route(t, "/lv")
	n.plugin(t, "log-via", map[string]string{"route": logged}, map[string]any{})
	n.sync(t)
	d := n.h.Root.SharedDict("kong")
	d.Delete("log-saw-via")
	code, _, hdr := n.getH(t, "/ah")
	if code != 200 || hdr.Get("X-Access-Set") != "yes" {
		t.Errorf("%d X-Access-Set %q", code, hdr.Get("X-Access-Set"))
	}
	n.get(t, "/lv")
	var saw any
	deadline := time.Now().Add(10 * time.Second)
	for saw == nil {
		if time.Now().After(deadline) {
			t.Fatal("log never ran")
		}
		time.Sleep(5 * time.Millisecond) // log may follow the response
		saw, _ = d.Get("log-saw-via")
	}
	if saw != "nil" {
		t.Errorf("log read Via %v, the header the proxy sends upstream", saw)
	}
}

// A configuration as a handler gets it: the stored config plus the fields
// Kong adds (plugins_iterator.lua get_plugin_config), and ngx.ctx.plugin_id
// set for the call.
func TestRunloopConfigFields(t *testing.T) {
	n := newRLNode(t, iterConf(t))
	route, service := n.route(t, "/f")
	row := n.plugin(t, "trace-b", map[string]string{"route": route, "service": service}, map[string]any{"tag": "fields"})
	n.sync(t)
	if code, _ := n.get(t, "/f"); code != 200 {
		t.Fatalf("status %d", code)
	}
	ws, err := n.h.Root.DB.DefaultWorkspace(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	id := row["id"].(string)
	want := fmt.Sprintf("route_id=%s service_id=%s consumer_id=nil __plugin_id=%s __key__=plugins:trace-b:%s:%s:::%s __ws_id=%s __seq__=number plugin_id=%s",
		route, service, id, route, service, ws, ws, id)
	if got, _ := n.h.Root.SharedDict("kong").Get("fields"); got != want {
		t.Errorf("fields\n got %v\nwant %s", got, want)
	}
}

// worker_consistency = strict: the request after a plugins write runs
// the new configuration, the stale iterator being rebuilt on its path
// (no background rebuild runs here); eventual keeps the stale one until
// the background rebuild.
func TestRunloopStrictRebuildsStaleIterator(t *testing.T) {
	for _, strict := range []bool{false, true} {
		t.Run(fmt.Sprint("strict=", strict), func(t *testing.T) {
			n := newRLNode(t, iterConf(t))
			n.route(t, "/r")
			n.sync(t)
			n.rl.Strict = strict
			stop := n.rl.Watch()
			defer stop()
			n.plugin(t, "trace-a", nil, map[string]any{"tag": "new"})
			if code, _ := n.get(t, "/r"); code != 200 {
				t.Fatalf("status %d", code)
			}
			// access runs before the response is sent (log may run after
			// the client has it)
			v, _ := n.h.Root.SharedDict("kong").Get("trace")
			ran := v != nil && strings.Contains(v.(string), "trace-a:access:new")
			if ran != strict {
				t.Errorf("plugin inserted before the request ran: %v (trace %v)", ran, v)
			}
		})
	}
}
