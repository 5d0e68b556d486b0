package request

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/conf"
	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk"
	"github.com/luahost/luahost/proxy"
	"github.com/luahost/luahost/router"
)

// upstream is a local HTTP server recording what it receives and echoing
// "METHOD URI BODY".
type upstream struct {
	mu   sync.Mutex
	got  []*http.Request
	body []string
	port int
}

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream{port: ln.Addr().(*net.TCPAddr).Port}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.got = append(u.got, r)
		u.body = append(u.body, string(b))
		u.mu.Unlock()
		w.Header().Set("X-Upstream", "yes")
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "%s %s %s", r.Method, r.RequestURI, b)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return u
}

func (u *upstream) last(t *testing.T) (*http.Request, string) {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.got) == 0 {
		t.Fatal("upstream received nothing")
	}
	return u.got[len(u.got)-1], u.body[len(u.body)-1]
}

func (u *upstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.got)
}

// env is a proxy whose phases run Lua snippets in one worker state, the
// way the host's plugin iterator drives a State.
type env struct {
	t    *testing.T
	in   *pdk.Instance
	st   *State
	p    *proxy.Proxy
	up   *upstream
	logs *logSink

	addr     string        // the proxy's address
	tlsAddr  string        // its ssl listener's
	h2cAddr  string        // its cleartext http2 listener's (h2)
	srvPort  string        // its port
	peerPort string        // the client's port in the last serve
	logDone  chan struct{} // one per request, when Log is over

	rc pdk.ReqCtx // ngx.ctx, made when Lua reads it, as the host does

	mu     sync.Mutex
	code   map[Phase]string
	errs   map[Phase]string
	record map[string]string
}

// logSink collects log messages.
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (s *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (s *logSink) Handle(_ context.Context, r slog.Record) error {
	s.mu.Lock()
	s.lines = append(s.lines, r.Message)
	s.mu.Unlock()
	return nil
}
func (s *logSink) WithAttrs([]slog.Attr) slog.Handler { return s }
func (s *logSink) WithGroup(string) slog.Handler      { return s }

const (
	routeID   = "10000000-0000-0000-0000-000000000001"
	serviceID = "20000000-0000-0000-0000-000000000002"
)

// newEnv starts a proxy with two Routes to a local upstream: paths "/"
// (request_buffering and response_buffering on, Kong's default) and the
// regex "~/cap/(?<id>\d+)/(\w+)" (both off). cfg may set trusted IPs.
func newEnv(t *testing.T, cfg proxy.Config, props ...string) *env {
	t.Helper()
	c := conf.New()
	for i := 0; i+1 < len(props); i += 2 {
		c.Set(props[i], props[i+1], "test")
	}
	sink := &logSink{}
	root := &pdk.Root{Conf: c, Logger: slog.New(sink), WorkerCount: 1}
	L := luavm.NewState(luavm.Options{})
	t.Cleanup(L.Close)
	in := root.Open(L, 0)
	e := &env{t: t, in: in, st: Open(in), logs: sink, code: map[Phase]string{}, errs: map[Phase]string{},
		record: map[string]string{}}
	L.SetGlobal("record", L.NewFunction(func(L *lua.LState) int {
		k := luavm.CheckString(L, 1)
		v := L.Get(2)
		var s string
		switch x := v.(type) {
		case *lua.LTable:
			s = pdk.Inspect(x)
		default:
			s = luavm.ToString(x)
			if x.Type() == lua.LTString {
				s = string(x.(lua.LString))
			}
		}
		e.mu.Lock()
		e.record[k] = s
		e.mu.Unlock()
		return 0
	}))
	e.up = newUpstream(t)
	rt := &router.Versioned{}
	routes := []router.Route{
		{ID: routeID, Name: "r1", Paths: []string{"/"}, ServiceID: serviceID, StripPath: false,
			Protocols: []string{"http", "https"}, CreatedAt: 1700000000, UpdatedAt: 1700000001,
			RequestBuffering: true, ResponseBuffering: true},
		{ID: "10000000-0000-0000-0000-000000000003", Paths: []string{`~/cap/(?<id>\d+)/(\w+)`},
			ServiceID: serviceID, StripPath: true, Protocols: []string{"http"}},
	}
	svcs := map[string]*router.Service{serviceID: {ID: serviceID, Name: "s1", Protocol: "http",
		Host: "127.0.0.1", Port: e.up.port, Retries: 5, ConnectTimeout: 2000, ReadTimeout: 2000,
		WriteTimeout: 2000}}
	if _, err := rt.Rebuild(routes, svcs); err != nil {
		t.Fatal(err)
	}
	cfg.KongVersion = "3.9.1"
	if cfg.GetCertificate == nil {
		def, err := proxy.SelfSignedCertificate()
		if err != nil {
			t.Fatal(err)
		}
		cfg.GetCertificate = proxy.NewCertificates(def, nil).GetCertificate
	}
	if cfg.Certificate == nil {
		cfg.Certificate = e.certificate
	}
	e.p = proxy.New(rt, cfg)
	e.p.Phases = e
	e.logDone = make(chan struct{}, 16)
	e.addr, e.tlsAddr, e.h2cAddr = e.listen()
	_, e.srvPort, _ = net.SplitHostPort(e.addr)
	return e
}

// clear forgets the recorded values and errors (one env, several cases).
func (e *env) clear() {
	e.mu.Lock()
	defer e.mu.Unlock()
	clear(e.errs)
	clear(e.record)
}

func (e *env) on(p Phase, src string) *env {
	e.mu.Lock()
	e.code[p] = src
	e.mu.Unlock()
	return e
}

func (e *env) off(p Phase) {
	e.mu.Lock()
	delete(e.code, p)
	e.mu.Unlock()
}

func (e *env) run(c *proxy.Context, p Phase) {
	e.st.SetPhase(p)
	e.mu.Lock()
	src, ok := e.code[p]
	e.mu.Unlock()
	if !ok {
		return
	}
	L := e.in.L
	e.in.SetPluginName("test")
	defer e.in.SetPluginName("")
	proto, err := luavm.Compile("snippet", []byte(src))
	if err != nil {
		e.t.Errorf("compile: %v", err)
		return
	}
	err = luavm.CallProtected(L, L.NewFunctionFromProto(proto), 0, false)
	// the host's runloop gives the worker back after each phase and takes
	// it again for the next (reqState leave, enter)
	e.in.DetachCtx()
	e.in.AttachCtx(&e.rc)
	if err != nil && !IsExit(err) {
		e.mu.Lock()
		e.errs[p] = luavm.ToString(errValue(err))
		e.mu.Unlock()
		if p == PhaseRewrite || p == PhaseAccess {
			c.Error(500)
			e.st.exited = true
		}
	}
}

// certificate runs the PhaseCertificate snippet in a TLS handshake, as
// the host's Runloop.Certificate does: a fresh ngx.ctx, a Req of its own;
// an error (recorded) fails the handshake.
func (e *env) certificate(h *proxy.Handshake) error {
	e.mu.Lock()
	src, ok := e.code[PhaseCertificate]
	e.mu.Unlock()
	if !ok {
		return nil
	}
	var rc pdk.ReqCtx
	rc.Reset()
	e.in.AttachCtx(&rc)
	e.st.BeginHandshake(NewReq(), h)
	defer func() {
		e.st.EndHandshake()
		e.in.DetachCtx()
	}()
	L := e.in.L
	e.in.SetPluginName("test")
	defer e.in.SetPluginName("")
	proto, err := luavm.Compile("snippet", []byte(src))
	if err != nil {
		e.t.Errorf("compile: %v", err)
		return err
	}
	err = luavm.CallProtected(L, L.NewFunctionFromProto(proto), 0, false)
	if st, ok := ExitStatus(err); ok {
		if st != 0 {
			return fmt.Errorf("ngx.exit(%d)", st)
		}
		return nil
	}
	if err != nil {
		e.mu.Lock()
		e.errs[PhaseCertificate] = luavm.ToString(errValue(err))
		e.mu.Unlock()
	}
	return err
}

// errValue is the Lua error value of a protected call's error.
func errValue(err error) lua.LValue {
	if ae, ok := err.(*lua.ApiError); ok {
		return ae.Object
	}
	return lua.LString(err.Error())
}

func (e *env) Rewrite(c *proxy.Context) bool {
	e.rc.Reset()
	e.in.AttachCtx(&e.rc)
	e.st.Begin(c)
	e.run(c, PhaseRewrite)
	return e.st.Exited()
}
func (e *env) Access(c *proxy.Context) bool {
	e.run(c, PhaseAccess)
	e.st.EndAccess()
	return e.st.Exited()
}
func (e *env) Response(c *proxy.Context) {
	if c.BufferResponse {
		e.run(c, PhaseResponse)
	}
}
func (e *env) HeaderFilter(c *proxy.Context) { e.run(c, PhaseHeaderFilter) }
func (e *env) BodyFilter(c *proxy.Context)   { e.run(c, PhaseBodyFilter) }
func (e *env) Log(c *proxy.Context) {
	e.run(c, PhaseLog)
	e.st.End()
	e.in.DetachCtx()
	e.logDone <- struct{}{}
}

// serve sends raw ("GET /x HTTP/1.1\r\nHost: h\r\n\r\n") to the proxy
// over a connection of its own, reads the answer and waits until the
// request's Log phase is over (it may run after the response is written).
// The client is 127.0.0.1 (e.peerPort its port).
func (e *env) serve(raw string) *fasthttp.Response {
	e.t.Helper()
	conn, err := net.Dial("tcp", e.addr)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.serveOn(conn, raw)
}

// serveTLS is serve over the ssl listener, sending sni ("" none).
func (e *env) serveTLS(raw, sni string) *fasthttp.Response {
	e.t.Helper()
	conn, err := tls.Dial("tcp", e.tlsAddr, &tls.Config{ServerName: sni, InsecureSkipVerify: true})
	if err != nil {
		e.t.Fatal(err)
	}
	return e.serveOn(conn, raw)
}

func (e *env) serveOn(conn net.Conn, raw string) *fasthttp.Response {
	e.t.Helper()
	defer conn.Close()
	e.peerPort = itoa(conn.LocalAddr().(*net.TCPAddr).Port)
	if _, err := io.WriteString(conn, raw); err != nil {
		e.t.Fatal(err)
	}
	out := &fasthttp.Response{}
	out.Header.DisableNormalizing()
	out.Header.SetNoDefaultContentType(true) // a Content-Type read is one sent
	if err := out.Read(bufio.NewReader(conn)); err != nil {
		e.t.Fatalf("response: %v", err)
	}
	select {
	case <-e.logDone:
	case <-time.After(30 * time.Second):
		e.t.Fatal("the request's log phase never ran")
	}
	return out
}

func (e *env) get(path string, hdrs ...string) *fasthttp.Response {
	var b strings.Builder
	b.WriteString("GET " + path + " HTTP/1.1\r\nHost: example.com\r\n")
	for i := 0; i+1 < len(hdrs); i += 2 {
		b.WriteString(hdrs[i] + ": " + hdrs[i+1] + "\r\n")
	}
	b.WriteString("\r\n")
	return e.serve(b.String())
}

// rec is a recorded value ("<missing>" when not recorded).
func (e *env) rec(k string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := e.record[k]
	if !ok {
		return "<missing>"
	}
	return v
}

func (e *env) err(p Phase) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.errs[p]
}

// want compares recorded values.
func (e *env) want(kv ...string) {
	e.t.Helper()
	for i := 0; i+1 < len(kv); i += 2 {
		if got := e.rec(kv[i]); got != kv[i+1] {
			e.t.Errorf("%s = %q, want %q", kv[i], got, kv[i+1])
		}
	}
}

// noErrors fails on any phase error.
func (e *env) noErrors() {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	for p, msg := range e.errs {
		e.t.Errorf("phase %s: %s", phaseName(p), msg)
	}
}

// listen serves the proxy on real sockets, plain, ssl and cleartext
// http2 (end-to-end tests).
func (e *env) listen() (string, string, string) {
	e.t.Helper()
	ls, err := proxy.ParseListen("proxy_listen", "127.0.0.1:0, 127.0.0.1:0 ssl, 127.0.0.1:0 http2")
	if err != nil {
		e.t.Fatal(err)
	}
	s, err := e.p.Listen(ls)
	if err != nil {
		e.t.Fatal(err)
	}
	go s.Serve()
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s.Addrs[0].String(), s.Addrs[1].String(), s.Addrs[2].String()
}

// h2 sends method path with headers (name, value, ...) over HTTP/2
// (cleartext, prior knowledge), reads the answer and waits until the
// request's Log phase is over.
func (e *env) h2(method, path string, hdrs ...string) (*http.Response, string) {
	e.t.Helper()
	var ps http.Protocols
	ps.SetUnencryptedHTTP2(true)
	c := &http.Client{Transport: &http.Transport{Protocols: &ps}}
	defer c.CloseIdleConnections()
	req, err := http.NewRequest(method, "http://"+e.h2cAddr+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Host = "example.com"
	for i := 0; i+1 < len(hdrs); i += 2 {
		req.Header.Add(hdrs[i], hdrs[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		e.t.Fatal(err)
	}
	if res.ProtoMajor != 2 {
		e.t.Fatalf("the client spoke %s", res.Proto)
	}
	select {
	case <-e.logDone:
	case <-time.After(30 * time.Second):
		e.t.Fatal("the request's log phase never ran")
	}
	return res, string(b)
}
