package proxy

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/luahost/luahost/router"
)

// hooks is a Phases made of optional functions, recording the calls.
type hooks struct {
	NopPhases
	access func(c *Context) bool
	header func(c *Context)
	body   func(c *Context)
	log    func(c *Context)

	mu     sync.Mutex
	chunks []string // BodyFilter calls: chunk, "|EOF" appended on the last
	logs   int
}

func (h *hooks) Access(c *Context) bool {
	if h.access != nil {
		return h.access(c)
	}
	return false
}

func (h *hooks) HeaderFilter(c *Context) {
	if h.header != nil {
		h.header(c)
	}
}

func (h *hooks) BodyFilter(c *Context) {
	s := string(c.BodyChunk)
	if c.BodyEOF {
		s += "|EOF"
	}
	h.mu.Lock()
	h.chunks = append(h.chunks, s)
	h.mu.Unlock()
	if h.body != nil {
		h.body(c)
	}
}

func (h *hooks) Log(c *Context) {
	if h.log != nil {
		h.log(c)
	}
	h.mu.Lock()
	h.logs++
	h.mu.Unlock()
}

func (h *hooks) calls() ([]string, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.chunks...), h.logs
}

// gate is an upstream handler step the test releases.
type gate chan struct{}

// streamUpstream serves /stream: "part1" flushed, then, once released,
// "part2"; /echo echoes the request body; /big sends n bytes.
func streamUpstream(t *testing.T, release gate, got chan<- string) (port int, conns func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	n := 0
	srv := &http.Server{
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				mu.Lock()
				n++
				mu.Unlock()
			}
		},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/stream":
				w.Write([]byte("part1"))
				w.(http.Flusher).Flush()
				<-release
				w.Write([]byte("part2"))
			case "/echo":
				// Reads the body as it comes, telling the test each piece.
				var all bytes.Buffer
				buf := make([]byte, 64)
				for {
					k, err := r.Body.Read(buf)
					if k > 0 {
						all.Write(buf[:k])
						if got != nil {
							got <- string(buf[:k])
						}
					}
					if err != nil {
						break
					}
				}
				fmt.Fprintf(w, "cl=%d te=%v body=%s", r.ContentLength, r.TransferEncoding, all.String())
			default:
				fmt.Fprintf(w, "%s", r.URL.Path)
			}
		}),
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).Port, func() int { mu.Lock(); defer mu.Unlock(); return n }
}

// readUntil reads from r until it has seen want, failing if the
// connection ends (or stays silent 10 s: the proxy held the bytes back).
func readUntil(t *testing.T, conn net.Conn, r *bufio.Reader, want string) string {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	for !strings.Contains(b.String(), want) {
		c, err := r.ReadByte()
		if err != nil {
			t.Fatalf("waiting for %q, got %q: %v", want, b.String(), err)
		}
		b.WriteByte(c)
	}
	return b.String()
}

func TestResponseStreamed(t *testing.T) {
	for _, plugins := range []bool{false, true} {
		t.Run(fmt.Sprintf("plugins=%v", plugins), func(t *testing.T) {
			release := make(gate)
			port, conns := streamUpstream(t, release, nil)
			tp := startProxy(t, Config{}, []router.Route{
				{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
			}, svc("s1", port))
			h := &hooks{body: func(c *Context) {
				c.BodyChunk = bytes.ToUpper(c.BodyChunk)
			}}
			if plugins {
				tp.p.Phases = h
			}
			conn, err := net.Dial("tcp", tp.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			br := bufio.NewReader(conn)
			io.WriteString(conn, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
			part1 := "part1"
			if plugins {
				part1 = "PART1"
			}
			// The first part reaches the client while the upstream still
			// holds the second.
			head := readUntil(t, conn, br, part1)
			if !strings.Contains(head, "Transfer-Encoding: chunked") || !strings.HasPrefix(head, "HTTP/1.1 200") {
				t.Errorf("head: %q", head)
			}
			close(release)
			want := "part2"
			if plugins {
				want = "PART2"
			}
			readUntil(t, conn, br, want)
			readUntil(t, conn, br, "0\r\n\r\n")
			// The upstream connection went back to the pool: the next
			// requests reuse it.
			for i := 0; i < 3; i++ {
				io.WriteString(conn, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
				res, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(res.Body)
				if res.StatusCode != 200 || !strings.EqualFold(string(b), "/x") {
					t.Fatalf("%d %q", res.StatusCode, b)
				}
			}
			if n := conns(); n != 1 {
				t.Errorf("upstream connections: %d, want 1", n)
			}
			if plugins {
				chunks, _ := h.calls()
				if len(chunks) < 3 || chunks[0] != "part1" || chunks[1] != "part2" || chunks[2] != "|EOF" {
					t.Errorf("body_filter calls: %q", chunks)
				}
			}
		})
	}
}

func TestResponseBuffered(t *testing.T) {
	release := make(gate)
	close(release)
	port, _ := streamUpstream(t, release, nil)
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
	}, svc("s1", port))
	var seen string
	h := &hooks{access: func(c *Context) bool { c.BufferResponse = true; return false }}
	tp.p.Phases = &responsePhase{hooks: h, seen: &seen}
	res, body := do(t, "GET", "http://"+tp.addr+"/stream", nil, "")
	if res.StatusCode != 200 || body != "part1part2" || res.ContentLength != 10 {
		t.Errorf("%d %q %d", res.StatusCode, body, res.ContentLength)
	}
	if seen != "part1part2" {
		t.Errorf("response phase saw %q", seen)
	}
	if chunks, _ := h.calls(); len(chunks) != 1 || chunks[0] != "part1part2|EOF" {
		t.Errorf("body_filter calls: %q", chunks)
	}
}

// responsePhase records the body the Response phase sees.
type responsePhase struct {
	*hooks
	seen *string
}

func (r *responsePhase) Response(c *Context) { *r.seen = string(c.RequestCtx.Response.Body()) }

func TestRequestStreamed(t *testing.T) {
	got := make(chan string, 16)
	port, _ := streamUpstream(t, nil, got)
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
	}, svc("s1", port))
	tp.p.Phases = &hooks{}
	conn, err := net.Dial("tcp", tp.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	io.WriteString(conn, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
	// The upstream reads the first chunk while the client has not sent
	// the rest.
	select {
	case s := <-got:
		if s != "hello" {
			t.Fatalf("upstream read %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the first chunk never reached the upstream")
	}
	io.WriteString(conn, "6\r\n world\r\n0\r\n\r\n")
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || string(b) != "cl=-1 te=[chunked] body=hello world" {
		t.Errorf("%d %q", res.StatusCode, b)
	}

	// A large body with a Content-Length goes as it is, Content-Length kept.
	big := strings.Repeat("a", 100<<10)
	go func() {
		for range got {
		}
	}()
	res2, body := do(t, "POST", "http://"+tp.addr+"/echo", nil, big)
	if res2.StatusCode != 200 || body != fmt.Sprintf("cl=%d te=[] body=%s", len(big), big) {
		t.Errorf("big: %d %.60q", res2.StatusCode, body)
	}
}

func TestRequestBodyReadByPlugin(t *testing.T) {
	port, _ := streamUpstream(t, nil, nil)
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
	}, svc("s1", port))
	var read string
	tp.p.Phases = &hooks{access: func(c *Context) bool {
		read = string(c.RequestBody())
		if c.RequestCtx.Request.Header.Peek("X-Replace") != nil {
			c.RequestCtx.Request.SetBodyString("replaced")
		}
		return false
	}}
	body := strings.Repeat("b", 50<<10)
	res, got := rawChunked(t, tp.addr, "/echo", nil, body)
	if res.StatusCode != 200 || got != fmt.Sprintf("cl=%d te=[] body=%s", len(body), body) || read != body {
		t.Errorf("%d %.60q read %d bytes", res.StatusCode, got, len(read))
	}
	res, got = rawChunked(t, tp.addr, "/echo", map[string]string{"X-Replace": "1"}, body)
	if res.StatusCode != 200 || got != "cl=8 te=[] body=replaced" {
		t.Errorf("replaced: %d %.60q", res.StatusCode, got)
	}
}

// rawChunked posts body chunked (4 KiB chunks) on a new connection.
func rawChunked(t *testing.T, addr, path string, hdr map[string]string, body string) (*http.Response, string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n", path)
	for k, v := range hdr {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	b.WriteString("\r\n")
	for s := body; s != ""; {
		n := min(len(s), 4096)
		fmt.Fprintf(&b, "%x\r\n%s\r\n", n, s[:n])
		s = s[n:]
	}
	b.WriteString("0\r\n\r\n")
	return raw(t, addr, b.String())
}

func TestRequestBodyLimit(t *testing.T) {
	u := newUpstream(t)
	tp := startProxy(t, Config{ClientMaxBodySize: 10 << 10}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
	}, svc("s1", u.port))
	rec := &recorder{logged: make(chan struct{}, 1)}
	tp.p.Phases = rec
	// Content-Length over the limit: 413 before any phase but the filters
	// and log.
	res, body := raw(t, tp.addr, fmt.Sprintf("POST /cl HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", 20<<10, strings.Repeat("x", 20<<10)))
	rid := res.Header.Get("X-Kong-Request-Id")
	if res.StatusCode != 413 || body != "Payload too large\nrequest_id: "+rid+"\n" || !res.Close {
		t.Errorf("content-length: %d %.60q close=%v", res.StatusCode, body, res.Close)
	}
	checkKongHeaders(t, res, false)
	if got := rec.take(); got != "header_filter:/cl body_filter:/cl log:/cl" {
		t.Errorf("calls: %s", got)
	}
	// Chunked past the limit, streamed: 413, the upstream never got a
	// whole request.
	res, body = rawChunked(t, tp.addr, "/chunked", nil, strings.Repeat("y", 20<<10))
	rid = res.Header.Get("X-Kong-Request-Id")
	if res.StatusCode != 413 || body != "Payload too large\nrequest_id: "+rid+"\n" || !res.Close {
		t.Errorf("chunked: %d %.60q close=%v", res.StatusCode, body, res.Close)
	}
	checkKongHeaders(t, res, false)
	u.mu.Lock()
	for _, r := range u.got {
		if r.URL.Path == "/chunked" {
			if b, _ := io.ReadAll(r.Body); len(b) > 10<<10 {
				t.Errorf("the upstream got %d bytes of the over-limit body", len(b))
			}
		}
	}
	u.mu.Unlock()
	// Chunked past the limit, read by a plugin: 413 once access returns.
	tp.p.Phases = &hooks{access: func(c *Context) bool {
		c.RequestBody()
		return false
	}}
	res, _ = rawChunked(t, tp.addr, "/read", nil, strings.Repeat("z", 20<<10))
	if res.StatusCode != 413 {
		t.Errorf("read by a plugin: %d", res.StatusCode)
	}
	// Under the limit: through.
	res, body = rawChunked(t, tp.addr, "/ok", nil, strings.Repeat("k", 9<<10))
	if res.StatusCode != 200 || body != "POST /ok "+strings.Repeat("k", 9<<10) {
		t.Errorf("under the limit: %d %.40q", res.StatusCode, body)
	}
}

func TestResponseResetMidBody(t *testing.T) {
	// An upstream that sends its headers and part of a long body, waits
	// for the test, then resets the connection.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	resetNow := make(chan struct{}, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				http.ReadRequest(bufio.NewReader(c))
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\npartial")
				<-resetNow
				c.(*net.TCPConn).SetLinger(0)
				c.Close()
			}()
		}
	}()
	u := newUpstream(t)
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/reset"}, ServiceID: "reset"},
		{ID: "00000000-0000-0000-0000-000000000002", Paths: []string{"/ok"}, ServiceID: "ok"},
	}, svc("reset", ln.Addr().(*net.TCPAddr).Port), svc("ok", u.port))
	for _, plugins := range []bool{false, true} {
		h := &hooks{}
		if plugins {
			tp.p.Phases = h
		}
		conn, err := net.Dial("tcp", tp.addr)
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(conn)
		io.WriteString(conn, "GET /reset HTTP/1.1\r\nHost: x\r\n\r\n")
		// The headers are sent as soon as the upstream's came.
		head := readUntil(t, conn, br, "\r\n\r\n")
		if !strings.HasPrefix(head, "HTTP/1.1 200 OK\r\n") || !strings.Contains(head, "Content-Length: 100000\r\n") {
			t.Errorf("plugins=%v: head %q", plugins, head)
		}
		resetNow <- struct{}{}
		// Then the connection ends before the body does.
		rest, _ := io.ReadAll(br)
		conn.Close()
		if len(rest) >= 100000 {
			t.Errorf("plugins=%v: the whole body came", plugins)
		}
		if plugins {
			if _, logs := h.calls(); logs != 1 {
				t.Errorf("log ran %d times", logs)
			}
		}
		res, body := do(t, "GET", "http://"+tp.addr+"/ok", nil, "")
		if res.StatusCode != 200 || body != "GET /ok " {
			t.Errorf("after the reset: %d %q", res.StatusCode, body)
		}
	}
}

func TestLogAfterResponse(t *testing.T) {
	release := make(gate)
	close(release)
	port, _ := streamUpstream(t, release, nil)
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
		{ID: "00000000-0000-0000-0000-000000000002", Paths: []string{"/deny"}},
	}, svc("s1", port))
	type logged struct{ uri, hdr, status string }
	logs := make(chan logged, 1)
	proceed := make(chan struct{})
	tp.p.Phases = &hooks{log: func(c *Context) {
		rc := c.RequestCtx
		logs <- logged{string(rc.Request.RequestURI()), string(rc.Request.Header.Peek("X-Test")),
			fmt.Sprint(rc.Response.StatusCode(), " ", string(rc.Response.Header.Peek("Via")))}
		select { // Log holds on until the test has read the whole response
		case <-proceed:
		case <-time.After(10 * time.Second):
		}
	}}
	for _, c := range []struct {
		name, req, body, status string
	}{
		{"keep-alive, streamed", "GET /stream HTTP/1.1\r\nHost: x\r\nX-Test: a\r\n\r\n", "part1part2", "200 1.1 kong/3.9.1"},
		{"keep-alive, kong's answer", "GET /deny HTTP/1.1\r\nHost: x\r\nX-Test: b\r\n\r\n", "no Service found with those values", "503 "},
		{"connection close, streamed", "GET /stream HTTP/1.1\r\nHost: x\r\nX-Test: c\r\nConnection: close\r\n\r\n", "part1part2", "200 1.1 kong/3.9.1"},
		{"http/1.0, buffered", "GET /x HTTP/1.0\r\nX-Test: d\r\n\r\n", "/x", "200 1.1 kong/3.9.1"},
		// Kong answers, the chunked body (the client has not finished it)
		// left unread.
		{"unread chunked body", "POST /deny HTTP/1.1\r\nHost: x\r\nX-Test: e\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
			"no Service found with those values", "503 "},
	} {
		conn, err := net.Dial("tcp", tp.addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(conn, c.req)
		// The whole response arrives while Log is held.
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		b, err := io.ReadAll(res.Body)
		if err != nil || !strings.Contains(string(b), c.body) {
			t.Errorf("%s: %q %v", c.name, b, err)
		}
		// Log has started, and sees the request and the response headers.
		var l logged
		select {
		case l = <-logs:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: log never ran", c.name)
		}
		proceed <- struct{}{}
		conn.Close()
		want := logged{strings.Fields(c.req)[1], c.req[strings.Index(c.req, "X-Test: ")+8 : strings.Index(c.req, "X-Test: ")+9], c.status}
		if l != want {
			t.Errorf("%s: log saw %+v, want %+v", c.name, l, want)
		}
	}
}

func TestHeadAndNoBodyWithPlugins(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/304":
			w.WriteHeader(304)
		case "/204":
			w.WriteHeader(204)
		default:
			w.Header().Set("Content-Length", "1234")
			if r.Method != "HEAD" {
				w.Write(make([]byte, 1234))
			}
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
	}, svc("s1", ln.Addr().(*net.TCPAddr).Port))
	h := &hooks{}
	tp.p.Phases = h
	conn, err := net.Dial("tcp", tp.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	// On one connection: a HEAD keeps the upstream's Content-Length and
	// sends no body, and the responses after it are read right.
	for _, c := range []struct {
		method, path string
		status       int
		cl           int64
	}{
		{"HEAD", "/h", 200, 1234},
		{"GET", "/304", 304, -1},
		{"GET", "/204", 204, -1},
		{"GET", "/g", 200, 1234},
	} {
		io.WriteString(conn, c.method+" "+c.path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		res, err := http.ReadResponse(br, &http.Request{Method: c.method})
		if err != nil {
			t.Fatalf("%s %s: %v", c.method, c.path, err)
		}
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != c.status || (c.cl >= 0 && res.Header.Get("Content-Length") != fmt.Sprint(c.cl)) ||
			(c.method == "GET" && int64(len(b)) != max(c.cl, 0)) {
			t.Errorf("%s %s: %d %v body %d", c.method, c.path, res.StatusCode, res.Header, len(b))
		}
	}
	if _, logs := h.calls(); logs < 3 {
		t.Errorf("log ran %d times", logs)
	}
}

// A streamed response may last longer than read_timeout as long as no
// single wait for the upstream does (nginx's proxy_read_timeout is between
// two reads). This test needs time to pass: 4 gaps of 400 ms against a
// 1 s read_timeout.
func TestReadTimeoutBetweenReads(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 5; i++ {
			if i > 0 {
				time.Sleep(400 * time.Millisecond)
			}
			fmt.Fprintf(w, "tick%d ", i)
			w.(http.Flusher).Flush()
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()
	s := svc("s1", ln.Addr().(*net.TCPAddr).Port)
	s.ReadTimeout = 1000
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
	}, s)
	res, body := do(t, "GET", "http://"+tp.addr+"/slow", nil, "")
	if res.StatusCode != 200 || body != "tick0 tick1 tick2 tick3 tick4 " {
		t.Errorf("%d %q", res.StatusCode, body)
	}
}

// ServeHTTP called without the proxy's listener (a caller's own server, a
// test): the response is whole in the RequestCtx and Log has run when it
// returns.
func TestServeHTTPDirect(t *testing.T) {
	release := make(gate)
	close(release)
	port, _ := streamUpstream(t, release, nil)
	rt := &router.Versioned{}
	if _, err := rt.Rebuild([]router.Route{{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"}},
		map[string]*router.Service{"s1": svc("s1", port)}); err != nil {
		t.Fatal(err)
	}
	p := New(rt, Config{KongVersion: "3.9.1"})
	h := &hooks{body: func(c *Context) { c.BodyChunk = bytes.ToUpper(c.BodyChunk) }}
	p.Phases = h
	var req fasthttp.Request
	if err := req.Read(bufio.NewReader(strings.NewReader("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"))); err != nil {
		t.Fatal(err)
	}
	var rc fasthttp.RequestCtx
	rc.Init(&req, &net.TCPAddr{IP: net.IPv4(10, 0, 0, 9), Port: 5555}, nil)
	p.ServeHTTP(&rc)
	if rc.Response.StatusCode() != 200 || string(rc.Response.Body()) != "PART1PART2" {
		t.Errorf("%d %q", rc.Response.StatusCode(), rc.Response.Body())
	}
	if chunks, logs := h.calls(); logs != 1 || len(chunks) != 1 || chunks[0] != "part1part2|EOF" {
		t.Errorf("body_filter %q, log ran %d times", chunks, logs)
	}
}

func TestStreamedBodyReplacedOrCut(t *testing.T) {
	// The upstream holds "part2" back for the whole test: the body ends
	// with "part1" only if the proxy stops reading when body_filter says so.
	release := make(gate)
	defer close(release)
	port, _ := streamUpstream(t, release, nil)
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
	}, svc("s1", port))
	tp.p.Phases = &hooks{
		header: func(c *Context) {
			resp := &c.RequestCtx.Response
			resp.Header.Del("Content-Length")
			if c.RequestCtx.Request.Header.Peek("X-Exit") != nil {
				resp.SetStatusCode(403)
				resp.SetBodyString("denied in header_filter")
			}
		},
		body: func(c *Context) {
			if c.RequestCtx.Request.Header.Peek("X-Cut") != nil && !c.BodyEOF {
				c.BodyEOF = true // ngx.arg[2] = true: the body ends here
			}
		},
	}
	res, body := do(t, "GET", "http://"+tp.addr+"/stream", map[string]string{"X-Exit": "1"}, "")
	if res.StatusCode != 403 || body != "denied in header_filter" {
		t.Errorf("exit in header_filter: %d %q", res.StatusCode, body)
	}
	// A whole response, not one cut by a failure.
	req, _ := http.NewRequest("GET", "http://"+tp.addr+"/stream", nil)
	req.Header.Set("X-Cut", "1")
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != "part1" || err != nil {
		t.Errorf("cut by body_filter: %d %q %v", res.StatusCode, b, err)
	}
	res, body = do(t, "GET", "http://"+tp.addr+"/other", nil, "")
	if res.StatusCode != 200 || body != "/other" {
		t.Errorf("after: %d %q", res.StatusCode, body)
	}
}
