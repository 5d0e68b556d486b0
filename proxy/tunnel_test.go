package proxy

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luahost/luahost/internal/wstest"
	"github.com/luahost/luahost/router"
)

// wsPhases records the phases of upgrade requests: Access asks for a
// buffered response (as a plugin with a response handler does: an upgrade
// turns it off) and answers 403 itself for /deny.
type wsPhases struct {
	NopPhases
	mu    sync.Mutex
	calls []string
	logs  chan int // the status Log saw, once per Log
}

func newWSPhases() *wsPhases { return &wsPhases{logs: make(chan int, 16)} }

func (w *wsPhases) add(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, s)
}

func (w *wsPhases) taken() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := strings.Join(w.calls, " ")
	w.calls = nil
	return s
}

func (w *wsPhases) Access(c *Context) bool {
	w.add("access")
	c.BufferResponse = true
	if bytes.HasPrefix(c.OriginalURI, []byte("/deny")) {
		c.KongError(403, "denied")
		return true
	}
	return false
}
func (w *wsPhases) Response(*Context) { w.add("response") }
func (w *wsPhases) HeaderFilter(c *Context) {
	w.add("header_filter:" + strconv.Itoa(c.RequestCtx.Response.StatusCode()))
	c.RequestCtx.Response.Header.Set("X-Phase", "seen")
}
func (w *wsPhases) BodyFilter(*Context) { w.add("body_filter") }
func (w *wsPhases) Log(c *Context) {
	st := c.RequestCtx.Response.StatusCode()
	w.add("log:" + strconv.Itoa(st))
	w.logs <- st
}

// waitLog is the status of the next Log (failing after a generous wait).
func (w *wsPhases) waitLog(t *testing.T) int {
	t.Helper()
	select {
	case st := <-w.logs:
		return st
	case <-time.After(20 * time.Second):
		t.Fatal("Log never ran")
		return 0
	}
}

// wsSvc is svc with a read timeout no test waits for: a tunnel the test
// does not end stays open.
func wsSvc(id string, port int) *router.Service {
	s := svc(id, port)
	s.ReadTimeout = 600000
	return s
}

func newWSUpstream(t *testing.T, cfg *tls.Config) *wstest.Upstream {
	t.Helper()
	u, err := wstest.NewUpstream(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(u.Close)
	return u
}

func startWS(t *testing.T, services ...*router.Service) (*testProxy, *wsPhases) {
	t.Helper()
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: services[0].ID},
	}, services...)
	rec := newWSPhases()
	tp.p.Phases = rec
	return tp, rec
}

// waitFor polls cond until it holds (failing after a generous deadline).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(2 * time.Millisecond) // polling the observable condition
	}
}

// noTunnelGoroutines waits until no goroutine runs the tunnel's code, and
// the number of goroutines is back to base (when base > 0).
func noTunnelGoroutines(t *testing.T, base int) {
	t.Helper()
	buf := make([]byte, 4<<20)
	var stacks []byte
	waitFor(t, "tunnel goroutines ended", func() bool {
		stacks = buf[:runtime.Stack(buf, true)]
		return !bytes.Contains(stacks, []byte("proxy.(*tunnel)")) && (base == 0 || runtime.NumGoroutine() <= base)
	})
}

// goroutineBase is the number of goroutines once the proxy has served one
// request on a closed connection (so that fasthttp's worker exists).
func goroutineBase(t *testing.T, tp *testProxy) int {
	t.Helper()
	c, err := net.Dial("tcp", tp.addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET /warm-up HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	io.ReadAll(c)
	c.Close()
	var n int
	waitFor(t, "a stable goroutine count", func() bool {
		a := runtime.NumGoroutine()
		runtime.Gosched()
		n = runtime.NumGoroutine()
		return a == n
	})
	return n
}

func echo(t *testing.T, c *wstest.Conn, op byte, payload []byte) {
	t.Helper()
	if err := c.Send(op, payload); err != nil {
		t.Fatal(err)
	}
	gotOp, got, err := c.Recv()
	want := op
	if op == wstest.OpPing {
		want = wstest.OpPong
	}
	if err != nil || gotOp != want || !bytes.Equal(got, payload) {
		t.Fatalf("echo of %d bytes (op %d): op %d, %d bytes, %v", len(payload), op, gotOp, len(got), err)
	}
}

// A WebSocket client reaches a WebSocket upstream through the proxy: the
// upstream gets Kong's Upgrade and Connection, whatever the spelling of the
// client's; the 101 comes back with Connection: upgrade and the upstream's
// Upgrade; frames go both ways (the upstream's first one in the same
// packet as its 101); header_filter sees the 101, body_filter and the
// response phase never run, Log runs once after the client closed, with
// status 101; the connection counts as open meanwhile.
func TestWebSocketTunnel(t *testing.T) {
	for _, tc := range []struct {
		name    string
		oddCase bool
		hdr     []string
	}{
		{name: "canonical"},
		{name: "odd case", oddCase: true, hdr: []string{
			"uPgRaDe: WebSocket", "CONNECTION: keep-alive, Upgrade", "upgrade: h2c",
			"sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==", "SEC-WEBSOCKET-VERSION: 13", "x-forwarded-for: 10.9.9.9"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newWSUpstream(t, nil)
			up.OddCase = tc.oddCase
			tp, rec := startWS(t, wsSvc("s1", up.Port))
			base := goroutineBase(t, tp)
			rec.waitLog(t)
			rec.taken()

			c, err := wstest.Dial(tp.addr, "/chat?room=1", nil, tc.hdr...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			wantUpgrade := "websocket"
			if tc.oddCase {
				wantUpgrade = "WebSocket"
				if got := c.Header("Sec-WebSocket-Accept"); len(got) != 1 || got[0] != wstest.Accept("dGhlIHNhbXBsZSBub25jZQ==") {
					t.Errorf("Sec-WebSocket-Accept %q", got)
				}
			}
			if c.Status != 101 || !slices.Equal(c.Header("Connection"), []string{"upgrade"}) ||
				!slices.Equal(c.Header("Upgrade"), []string{wantUpgrade}) || len(c.Header("Via")) != 1 ||
				len(c.Header("X-Kong-Upstream-Latency")) != 1 || !slices.Equal(c.Header("X-Phase"), []string{"seen"}) {
				t.Fatalf("handshake: %d %q", c.Status, c.Head.Lines)
			}
			reqs := up.Requests()
			if len(reqs) != 2 { // the warm-up's, the handshake
				t.Fatalf("upstream requests: %d", len(reqs))
			}
			r := reqs[1]
			if r.Line != "GET /chat?room=1 HTTP/1.1" || !slices.Contains(r.Lines, "Upgrade: websocket") ||
				!slices.Contains(r.Lines, "Connection: keep-alive, Upgrade") || len(r.Values("Upgrade")) != 1 ||
				len(r.Values("Connection")) != 1 || !slices.Equal(r.Values("Host"), []string{"127.0.0.1:" + strconv.Itoa(up.Port)}) ||
				len(r.Values("X-Forwarded-For")) != 1 || len(r.Values("Sec-WebSocket-Key")) != 1 {
				t.Errorf("upstream request: %s %q", r.Line, r.Lines)
			}

			if op, p, err := c.Recv(); err != nil || op != wstest.OpText || string(p) != "hello" {
				t.Fatalf("greeting: %d %q %v", op, p, err)
			}
			echo(t, c, wstest.OpText, []byte("ping-1"))
			big := make([]byte, 300<<10)
			rand.Read(big)
			echo(t, c, wstest.OpBinary, big)
			echo(t, c, wstest.OpPing, []byte("are you there"))
			echo(t, c, wstest.OpText, []byte("ping-2"))

			// (the warm-up's connection may still be counted for a moment)
			waitFor(t, "the tunnel's connection counted open, writing", func() bool {
				st := tp.p.ConnStats()
				return st.Active == 1 && st.Writing == 1
			})
			if len(rec.logs) != 0 {
				t.Fatal("Log ran before the tunnel closed")
			}
			c.Close() // the client goes first
			if st := rec.waitLog(t); st != 101 {
				t.Errorf("Log saw %d", st)
			}
			noTunnelGoroutines(t, base)
			if got := rec.taken(); got != "access header_filter:101 log:101" {
				t.Errorf("phases: %s", got)
			}
			if len(rec.logs) != 0 {
				t.Error("Log ran twice")
			}
			waitFor(t, "upstream connection closed", func() bool { return up.Open() == 0 })
			waitFor(t, "connection counted closed", func() bool { st := tp.p.ConnStats(); return st.Active == 0 && st.Writing == 0 })
		})
	}
}

// The upstream ending the tunnel (closing at once, or answering a close
// frame) ends it on the client's side too.
func TestWebSocketUpstreamClosesFirst(t *testing.T) {
	for _, tc := range []struct {
		name string
		op   byte
		msg  string
	}{
		{"close-now", wstest.OpText, "close-now"},
		{"close frame", wstest.OpClose, "\x03\xe8bye"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := newWSUpstream(t, nil)
			tp, rec := startWS(t, wsSvc("s1", up.Port))
			base := goroutineBase(t, tp)
			rec.waitLog(t)
			c, err := wstest.Dial(tp.addr, "/", nil)
			if err != nil || c.Status != 101 {
				t.Fatalf("%v %+v", err, c)
			}
			defer c.Close()
			c.Recv() // hello
			if err := c.Send(tc.op, []byte(tc.msg)); err != nil {
				t.Fatal(err)
			}
			c.SetReadDeadline(time.Now().Add(20 * time.Second))
			if tc.op == wstest.OpClose {
				if op, p, err := c.Recv(); err != nil || op != wstest.OpClose || string(p) != tc.msg {
					t.Fatalf("close answer: %d %q %v", op, p, err)
				}
			}
			if _, _, err := c.Recv(); !isClosed(err) {
				t.Fatalf("after the upstream closed: %v", err)
			}
			if st := rec.waitLog(t); st != 101 {
				t.Errorf("Log saw %d", st)
			}
			noTunnelGoroutines(t, base)
		})
	}
}

// isClosed is a read's error on a connection the other side closed (not a
// timeout).
func isClosed(err error) bool {
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		return false
	}
	return true
}

// A plugin answering in access answers an upgrade request as any other:
// the upstream is not asked.
func TestWebSocketAccessExit(t *testing.T) {
	up := newWSUpstream(t, nil)
	tp, rec := startWS(t, wsSvc("s1", up.Port))
	c, err := wstest.Dial(tp.addr, "/deny", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Status != 403 || !strings.Contains(c.Body, `"message":"denied"`) {
		t.Fatalf("%d %q", c.Status, c.Body)
	}
	if st := rec.waitLog(t); st != 403 {
		t.Errorf("Log saw %d", st)
	}
	if got := rec.taken(); got != "access header_filter:403 body_filter log:403" {
		t.Errorf("phases: %s", got)
	}
	if n := len(up.Requests()); n != 0 {
		t.Errorf("upstream asked %d times", n)
	}
	noTunnelGoroutines(t, 0)
}

// An upstream that does not switch protocols gives a normal response (its
// body streamed, its connection closed after it); the client's connection
// serves on. An upstream that cannot be reached gives Kong's 502.
func TestWebSocketRefused(t *testing.T) {
	up := newWSUpstream(t, nil)
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadPort := dead.Addr().(*net.TCPAddr).Port
	dead.Close()
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
		{ID: "00000000-0000-0000-0000-000000000002", Paths: []string{"/dead"}, ServiceID: "s2"},
	}, wsSvc("s1", up.Port), svc("s2", deadPort))
	rec := newWSPhases()
	tp.p.Phases = rec
	for _, path := range []string{"/refuse", "/refuse-chunked"} {
		c, err := wstest.Dial(tp.addr, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != 400 || c.Body != "not a websocket" || len(c.Header("Upgrade")) != 0 || len(c.Header("Via")) != 1 {
			t.Errorf("%s: %d %q %q", path, c.Status, c.Body, c.Head.Lines)
		}
		if st := rec.waitLog(t); st != 400 {
			t.Errorf("%s: Log saw %d", path, st)
		}
		if got := rec.taken(); strings.Contains(got, "response") || !strings.HasPrefix(got, "access header_filter:400 body_filter") {
			t.Errorf("%s: phases %s", path, got)
		}
		waitFor(t, path+": upstream connection closed", func() bool { return up.Open() == 0 })
		// the connection is an HTTP one still
		if err := c.Get("/plain", "x"); err != nil || c.Status != 426 {
			t.Errorf("%s: next request: %v %d", path, err, c.Status)
		}
		rec.waitLog(t)
		rec.taken()
		c.Close()
	}

	c, err := wstest.Dial(tp.addr, "/dead", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Status != 502 || !strings.Contains(c.Body, "An invalid response was received from the upstream server") {
		t.Errorf("unreachable: %d %q", c.Status, c.Body)
	}
	if st := rec.waitLog(t); st != 502 {
		t.Errorf("unreachable: Log saw %d", st)
	}
	noTunnelGoroutines(t, 0)
}

// wss to the proxy's TLS listener, to an https upstream.
func TestWebSocketTLS(t *testing.T) {
	cert, err := SelfSignedCertificate()
	if err != nil {
		t.Fatal(err)
	}
	up := newWSUpstream(t, &tls.Config{Certificates: []tls.Certificate{*cert}})
	s := wsSvc("s1", up.Port)
	s.Protocol = "https"
	tp, rec := startWS(t, s)
	c, err := wstest.Dial(tp.tlsAddr, "/tls", &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Status != 101 {
		t.Fatalf("%d %q", c.Status, c.Head.Lines)
	}
	if _, p, err := c.Recv(); err != nil || string(p) != "hello" {
		t.Fatalf("greeting %q %v", p, err)
	}
	big := make([]byte, 100<<10)
	rand.Read(big)
	echo(t, c, wstest.OpBinary, big)
	echo(t, c, wstest.OpText, []byte("over tls"))
	c.Close()
	if st := rec.waitLog(t); st != 101 {
		t.Errorf("Log saw %d", st)
	}
	noTunnelGoroutines(t, 0)
}

// Reading the upstream times out read_timeout after the last bytes either
// way: an idle tunnel is closed by the proxy.
func TestWebSocketIdleTimeout(t *testing.T) {
	up := newWSUpstream(t, nil)
	s := svc("s1", up.Port)
	s.ReadTimeout = 300
	tp, rec := startWS(t, s)
	c, err := wstest.Dial(tp.addr, "/silent", nil)
	if err != nil || c.Status != 101 {
		t.Fatalf("%v %+v", err, c)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, _, err := c.Recv(); !isClosed(err) {
		t.Fatalf("idle tunnel: %v", err)
	}
	if st := rec.waitLog(t); st != 101 {
		t.Errorf("Log saw %d", st)
	}
	noTunnelGoroutines(t, 0)
}

// Shutdown closes the open tunnels once the requests in flight are done,
// and returns after their Log ran.
func TestWebSocketShutdown(t *testing.T) {
	up := newWSUpstream(t, nil)
	tp, rec := startWS(t, wsSvc("s1", up.Port))
	c, err := wstest.Dial(tp.addr, "/", nil)
	if err != nil || c.Status != 101 {
		t.Fatalf("%v %+v", err, c)
	}
	defer c.Close()
	c.Recv() // hello
	echo(t, c, wstest.OpText, []byte("before shutdown"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := tp.s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	select {
	case st := <-rec.logs:
		if st != 101 {
			t.Errorf("Log saw %d", st)
		}
	default:
		t.Error("Shutdown returned before the tunnel's Log")
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, _, err := c.Recv(); !isClosed(err) {
		t.Fatalf("after Shutdown: %v", err)
	}
	noTunnelGoroutines(t, 0)
}

// Without plugins (no Phases): the same tunnel, and a refused upgrade's
// connection closed after its body.
func TestWebSocketNoPhases(t *testing.T) {
	up := newWSUpstream(t, nil)
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
	}, wsSvc("s1", up.Port))
	c, err := wstest.Dial(tp.addr, "/", nil)
	if err != nil || c.Status != 101 {
		t.Fatalf("%v %+v", err, c)
	}
	defer c.Close()
	c.Recv() // hello
	echo(t, c, wstest.OpText, []byte("no plugins"))
	c.Close()
	noTunnelGoroutines(t, 0)
	waitFor(t, "upstream connection closed", func() bool { return up.Open() == 0 })

	r, err := wstest.Dial(tp.addr, "/refuse-chunked", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Status != 400 || r.Body != "not a websocket" {
		t.Errorf("refused: %d %q", r.Status, r.Body)
	}
	waitFor(t, "refused: upstream connection closed", func() bool { return up.Open() == 0 })
}

// A balanced Service: an upgrade that cannot connect to one target goes to
// the next (Kong's balancer retry), with the tries in Log and the Host of
// the target it reached.
func TestWebSocketBalancedRetry(t *testing.T) {
	up := newWSUpstream(t, nil)
	dead := deadPort(t)
	tp, _, lg := startBalanced(t, upstreamRow(nil), targetRow(up.Port, 100), targetRow(dead, 100))
	retried := 0
	for i := 0; i < 4; i++ {
		c, err := wstest.Dial(tp.addr, "/ws", nil)
		if err != nil || c.Status != 101 {
			t.Fatalf("%v %+v", err, c)
		}
		c.Recv() // hello
		echo(t, c, wstest.OpText, []byte("balanced"))
		c.Close()
		var tries []Try
		select {
		case tries = <-lg.ch:
		case <-time.After(20 * time.Second):
			t.Fatal("Log never ran")
		}
		last := tries[len(tries)-1]
		if last.Port != up.Port || last.State != "" {
			t.Fatalf("tries %+v", tries)
		}
		if len(tries) == 2 {
			if tries[0].Port != dead || tries[0].State != "failed" || tries[0].Code != 502 {
				t.Fatalf("tries %+v", tries)
			}
			retried++
		}
		reqs := up.Requests()
		if h := reqs[len(reqs)-1].Values("Host"); len(h) != 1 || h[0] != "127.0.0.1:"+strconv.Itoa(up.Port) {
			t.Fatalf("Host %q, tries %+v", h, tries)
		}
	}
	// a retry moves the wheel's pointer too: most start on the dead target
	if retried < 2 {
		t.Errorf("%d of 4 upgrades retried", retried)
	}
	noTunnelGoroutines(t, 0)
}
