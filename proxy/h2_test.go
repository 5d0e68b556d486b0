package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luahost/luahost/router"
	"github.com/valyala/fasthttp"
)

// h2Client speaks HTTP/2 only: over TLS through ALPN, in cleartext with
// prior knowledge.
func h2Client() *http.Client {
	var ps http.Protocols
	ps.SetHTTP2(true)
	ps.SetUnencryptedHTTP2(true)
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		Protocols:       &ps,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}}
}

// h1Client speaks HTTP/1.1 only (ALPN http/1.1 over TLS).
func h1Client() *http.Client {
	var ps http.Protocols
	ps.SetHTTP1(true)
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		Protocols:       &ps,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}}
}

func get(t *testing.T, c *http.Client, method, url, body string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		// no length: sent as DATA frames / chunks of unknown total
		rd = io.MultiReader(strings.NewReader(body))
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Mixed-Case", "v")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

// startH2Proxy serves a cleartext "http2" entry besides startProxy's (whose
// TLS entry is "http2 ssl").
func startH2Proxy(t *testing.T, tp *testProxy) string {
	t.Helper()
	ls, err := ParseListen("proxy_listen", "127.0.0.1:0 http2")
	if err != nil {
		t.Fatal(err)
	}
	s, err := tp.p.Listen(ls)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s.Addrs[0].String()
}

func TestHTTP2Listeners(t *testing.T) {
	u := newUpstream(t)
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
	}, svc("s1", u.port))
	h2c := startH2Proxy(t, tp)

	for _, tc := range []struct {
		name, url string
		client    *http.Client
		major     int
		via       string
	}{
		{"h2 over TLS (ALPN)", "https://" + tp.tlsAddr, h2Client(), 2, "2 kong/3.9.1"},
		{"HTTP/1.1 on the same TLS entry", "https://" + tp.tlsAddr, h1Client(), 1, "1.1 kong/3.9.1"},
		{"h2c, prior knowledge", "http://" + h2c, h2Client(), 2, "2 kong/3.9.1"},
		{"HTTP/1.1 on the same cleartext entry", "http://" + h2c, h1Client(), 1, "1.1 kong/3.9.1"},
		{"HTTP/1.1 on a plain entry", "http://" + tp.addr, h1Client(), 1, "1.1 kong/3.9.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := get(t, tc.client, "POST", tc.url+"/echo?a=1", "hello body")
			if res.ProtoMajor != tc.major {
				t.Errorf("client spoke %s", res.Proto)
			}
			if res.StatusCode != 200 || body != "POST /echo?a=1 hello body" || res.Header.Get("X-Upstream") != "yes" {
				t.Errorf("%d %q %v", res.StatusCode, body, res.Header)
			}
			got := u.last(t)
			if got.Proto != "HTTP/1.1" {
				t.Errorf("upstream got %s, want HTTP/1.1 (nginx's proxy_pass)", got.Proto)
			}
			if v := got.Header.Get("Via"); v != tc.via {
				t.Errorf("upstream Via %q, want %q", v, tc.via)
			}
			if got.Header.Get("X-Mixed-Case") != "v" || got.Header.Get("X-Kong-Request-Id") == "" {
				t.Errorf("upstream headers %v", got.Header)
			}
			if h := res.Header.Get("X-Kong-Request-Id"); h == "" {
				t.Errorf("client headers %v", res.Header)
			}
		})
	}
	// Kong's own answers over HTTP/2
	res, body := get(t, h2Client(), "GET", "https://"+tp.tlsAddr+"/", "")
	if res.ProtoMajor != 2 || res.StatusCode != 200 {
		t.Errorf("%s %d %q", res.Proto, res.StatusCode, body)
	}
	tp.rt.Rebuild(nil, nil)
	res, body = get(t, h2Client(), "GET", "http://"+h2c+"/nothing", "")
	if res.ProtoMajor != 2 || res.StatusCode != 404 || !strings.Contains(body, "no Route matched with those values") {
		t.Errorf("%s %d %q", res.Proto, res.StatusCode, body)
	}
}

// Over HTTP/2 the request's header names reach the upstream in lower case,
// as HTTP/2 carries them (nginx forwards them so).
func TestHTTP2HeaderNamesUpstream(t *testing.T) {
	raw := make(chan string, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		var sb strings.Builder
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			sb.WriteString(line)
			if line == "\r\n" {
				break
			}
		}
		raw <- sb.String()
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	}()
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
	}, svc("s1", ln.Addr().(*net.TCPAddr).Port))
	res, body := get(t, h2Client(), "GET", "https://"+tp.tlsAddr+"/x", "")
	if res.StatusCode != 200 || body != "ok" {
		t.Fatalf("%d %q", res.StatusCode, body)
	}
	head := <-raw
	if !strings.HasPrefix(head, "GET /x HTTP/1.1\r\n") || !strings.Contains(head, "\r\nx-mixed-case: v\r\n") {
		t.Errorf("upstream request:\n%s", head)
	}
}

// blockingLog's Log waits until the test has read the response: if Log
// ran before the response was written, the client would wait forever.
type blockingLog struct {
	recorder
	release chan struct{}
}

func (b *blockingLog) Log(c *Context) {
	<-b.release
	b.recorder.Log(c)
}

func TestHTTP2PhasesAndLogAfterWrite(t *testing.T) {
	u := newUpstream(t)
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
	}, svc("s1", u.port))
	ph := &blockingLog{recorder: recorder{logged: make(chan struct{}, 1)}, release: make(chan struct{})}
	tp.p.Phases = ph
	for _, path := range []string{"/ok", "/deny"} {
		got := make(chan string, 1)
		go func() {
			res, err := h2Client().Get("https://" + tp.tlsAddr + path)
			if err != nil {
				got <- err.Error()
				return
			}
			b, err := io.ReadAll(res.Body)
			res.Body.Close()
			if err != nil {
				got <- "body: " + err.Error()
				return
			}
			got <- res.Proto + " " + res.Status + " " + res.Header.Get("X-Phase") + " " + string(b)
		}()
		var r string
		select {
		case r = <-got:
		case <-time.After(time.Minute):
			t.Fatal("no response while Log was held: Log runs before the write")
		}
		ph.release <- struct{}{} // let this request's Log finish
		want := map[string]string{
			"/ok":   "HTTP/2.0 200 OK seen GET /ok ",
			"/deny": `HTTP/2.0 401 Unauthorized seen {"message":"Unauthorized"}`,
		}[path]
		if r != want {
			t.Errorf("%s: %q, want %q", path, r, want)
		}
		calls := ph.take()
		wantCalls := "rewrite:" + path + " access:" + path + " response:" + path + " header_filter:" + path + " body_filter:" + path + " log:" + path
		if path == "/deny" {
			wantCalls = "rewrite:/deny access:/deny header_filter:/deny body_filter:/deny log:/deny"
		}
		if calls != wantCalls {
			t.Errorf("%s calls: %s", path, calls)
		}
	}
}

// A connection that sends nothing, or garbage, on a cleartext http2 entry
// does not stop others from being served.
func TestHTTP2SniffDoesNotBlock(t *testing.T) {
	u := newUpstream(t)
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
	}, svc("s1", u.port))
	h2c := startH2Proxy(t, tp)
	idle, err := net.Dial("tcp", h2c)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	partial, err := net.Dial("tcp", h2c)
	if err != nil {
		t.Fatal(err)
	}
	defer partial.Close()
	io.WriteString(partial, "PRI * HTTP/2.0\r\n") // half a preface
	garbage, err := net.Dial("tcp", h2c)
	if err != nil {
		t.Fatal(err)
	}
	defer garbage.Close()
	io.WriteString(garbage, "\x16\x03\x01 not http\r\n\r\n")
	res, body := get(t, h2Client(), "GET", "http://"+h2c+"/a", "")
	if res.ProtoMajor != 2 || body != "GET /a " {
		t.Errorf("%s %q", res.Proto, body)
	}
	res, body = get(t, h1Client(), "GET", "http://"+h2c+"/b", "")
	if res.ProtoMajor != 1 || body != "GET /b " {
		t.Errorf("%s %q", res.Proto, body)
	}
	// the garbage got nginx's 400 over HTTP/1.x
	garbage.SetReadDeadline(time.Now().Add(20 * time.Second))
	line, _ := bufio.NewReader(garbage).ReadString('\n')
	if !strings.HasPrefix(line, "HTTP/1.1 400") {
		t.Errorf("garbage answered %q", line)
	}
}

// An HTTP/2 client gets the upstream's body as it comes (through
// BodyFilter when plugins run), not once the upstream has finished.
func TestHTTP2Streams(t *testing.T) {
	release := make(chan struct{}, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	up := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first;")
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, "second")
	})}
	go up.Serve(ln)
	defer up.Close()
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
	}, svc("s1", ln.Addr().(*net.TCPAddr).Port))
	for _, withPlugins := range []bool{false, true} {
		rec := &recorder{logged: make(chan struct{}, 1)}
		if withPlugins {
			tp.p.Phases = rec
		}
		res, err := h2Client().Get("https://" + tp.tlsAddr + "/stream")
		if err != nil {
			t.Fatal(err)
		}
		first := make([]byte, len("first;"))
		if _, err := io.ReadFull(res.Body, first); err != nil || string(first) != "first;" {
			t.Fatalf("plugins %v: first chunk %q %v", withPlugins, first, err)
		}
		release <- struct{}{}
		rest, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || string(rest) != "second" {
			t.Errorf("plugins %v: rest %q %v", withPlugins, rest, err)
		}
		if withPlugins {
			want := "rewrite:/stream access:/stream response:/stream header_filter:/stream body_filter:/stream body_filter:/stream body_filter:/stream log:/stream"
			if got := rec.take(); got != want {
				t.Errorf("calls: %s", got)
			}
			tp.p.Phases = nil
		}
	}
	// HEAD: the upstream's length, no body
	release <- struct{}{}
	res, err := h2Client().Head("https://" + tp.tlsAddr + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.ProtoMajor != 2 {
		t.Errorf("HEAD: %s %d", res.Proto, res.StatusCode)
	}
}

// H2Split, H2Server and H2Handler serve another fasthttp handler (the
// Admin API's) on one port to HTTP/1.x and HTTP/2 clients.
func TestH2HandlerForOtherServers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	handler := func(rc *fasthttp.RequestCtx) {
		rc.Response.Header.Set("X-Seen", string(rc.Request.Header.Peek("x-mixed-case")))
		fmt.Fprintf(rc, "%s %s tls=%v", rc.Method(), rc.RequestURI(), rc.IsTLS())
	}
	h1, h2 := H2Split(ln)
	srv := H2Server(H2Handler(handler), time.Minute)
	fs := &fasthttp.Server{Handler: handler}
	go srv.Serve(h2)
	go fs.Serve(h1)
	defer func() {
		srv.Close()
		fs.Shutdown()
	}()
	for _, c := range []*http.Client{h2Client(), h1Client()} {
		res, body := get(t, c, "GET", "http://"+ln.Addr().String()+"/x?y=1", "")
		if res.StatusCode != 200 || body != "GET /x?y=1 tls=false" || res.Header.Get("X-Seen") != "v" {
			t.Errorf("%s: %d %q %v", res.Proto, res.StatusCode, body, res.Header)
		}
	}
}

// An upstream response without a Content-Type goes to the client without
// one, as nginx passes it: fasthttp would add its text/plain to a
// response read from the upstream for the plugins' streaming, and
// net/http would sniff one for an HTTP/2 client.
func TestHTTP2NoDefaultContentType(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					l, err := r.ReadString('\n')
					if err != nil || l == "\r\n" {
						break
					}
				}
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
			}()
		}
	}()
	for _, ph := range []Phases{nil, NopPhases{}} {
		tp := startProxy(t, Config{}, []router.Route{
			{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
		}, svc("s1", ln.Addr().(*net.TCPAddr).Port))
		tp.p.Phases = ph
		h2c := startH2Proxy(t, tp)
		for _, url := range []string{"http://" + h2c, "https://" + tp.tlsAddr} {
			for _, c := range []*http.Client{h2Client(), h1Client()} {
				res, body := get(t, c, "GET", url+"/", "")
				if body != "hello" || res.Header.Values("Content-Type") != nil {
					t.Errorf("phases %v, %s %s: %q Content-Type %q", ph != nil, url, res.Proto, body, res.Header.Values("Content-Type"))
				}
			}
		}
	}
}

// fakeListener returns errs from Accept in turn, then conns, then waits
// for Close and returns net.ErrClosed.
type fakeListener struct {
	mu     sync.Mutex
	errs   []error
	conns  []net.Conn
	closed chan struct{}
	once   sync.Once
}

func (l *fakeListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errs) > 0 {
		err := l.errs[0]
		l.errs = l.errs[1:]
		return nil, err
	}
	if len(l.conns) > 0 {
		c := l.conns[0]
		l.conns = l.conns[1:]
		return c, nil
	}
	l.mu.Unlock()
	<-l.closed
	l.mu.Lock()
	return nil, net.ErrClosed
}
func (l *fakeListener) Close() error   { l.once.Do(func() { close(l.closed) }); return nil }
func (l *fakeListener) Addr() net.Addr { return &net.TCPAddr{} }

// An Accept that fails for want of descriptors does not close an http2
// entry: the connections after it are served; a closed listener ends it.
func TestH2SplitAcceptErrors(t *testing.T) {
	server, client := net.Pipe()
	defer client.Close()
	go io.WriteString(client, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	fl := &fakeListener{errs: []error{errors.New("accept: too many open files"), errors.New("accept: too many open files")},
		conns: []net.Conn{server}, closed: make(chan struct{})}
	h1, _ := H2Split(fl)
	c, err := h1.Accept()
	if err != nil {
		t.Fatalf("Accept after transient errors: %v", err)
	}
	line, _ := bufio.NewReader(c).ReadString('\n')
	if line != "GET / HTTP/1.1\r\n" {
		t.Errorf("first line %q", line)
	}
	h1.Close()
	if _, err := h1.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("after the listener closed: %v", err)
	}
}

// An upstream failing mid-body resets the HTTP/2 stream (as nginx does):
// the client sees an error, not a body that looks whole.
func TestHTTP2UpstreamFailsMidBody(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
				c.Close()
			}()
		}
	}()
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
	}, svc("s1", ln.Addr().(*net.TCPAddr).Port))
	for _, withPlugins := range []bool{false, true} {
		if withPlugins {
			tp.p.Phases = &recorder{}
		}
		res, err := h2Client().Get("https://" + tp.tlsAddr + "/cut")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil {
			t.Errorf("plugins %v: body %q read to a clean end", withPlugins, body)
		}
	}
}
