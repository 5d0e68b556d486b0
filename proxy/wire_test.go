package proxy

// What the proxy puts on the wire, both ways, on real sockets: an upstream
// written here records the request line, header block and body as they
// came; a client written here reads the response's header block as it
// came (names as spelled, lines repeated).

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/luahost/luahost/balancer"
	"github.com/luahost/luahost/router"
)

// wireRequest is a request as the upstream read it.
type wireRequest struct {
	head    string // request line and header block, as sent
	body    string // de-chunked when chunked
	chunked bool
	trailer string // the trailer section's lines
}

// wireUpstream answers /<name> with responses[name] (200 "ok" without;
// closeUnanswered: the connection is closed once the request is read),
// recording each request.
type wireUpstream struct {
	port      int
	responses map[string]string
	mu        sync.Mutex
	got       []wireRequest
}

func newWireUpstream(t *testing.T, responses map[string]string) *wireUpstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &wireUpstream{port: ln.Addr().(*net.TCPAddr).Port, responses: responses}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close() // the proxy keeps them alive
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				u.serve(c)
			}()
		}
	}()
	return u
}

func (u *wireUpstream) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		head, err := readHead(br)
		if err != nil {
			return
		}
		r := wireRequest{head: head}
		if te := headerLines(head, "Transfer-Encoding"); len(te) > 0 && strings.EqualFold(te[0], "chunked") {
			r.chunked = true
			r.body, r.trailer, err = readChunked(br)
		} else if cl := headerLines(head, "Content-Length"); len(cl) > 0 {
			n, _ := strconv.Atoi(cl[0])
			b := make([]byte, n)
			_, err = io.ReadFull(br, b)
			r.body = string(b)
		}
		if err != nil {
			return
		}
		u.mu.Lock()
		u.got = append(u.got, r)
		u.mu.Unlock()
		path := strings.Fields(head)[1]
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		resp, ok := u.responses[strings.TrimPrefix(path, "/")]
		if !ok {
			resp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
		}
		if resp == closeUnanswered {
			return
		}
		if _, err := io.WriteString(c, resp); err != nil {
			return
		}
	}
}

// last is the last request received.
func (u *wireUpstream) last(t *testing.T) wireRequest {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.got) == 0 {
		t.Fatal("the upstream received nothing")
	}
	return u.got[len(u.got)-1]
}

const closeUnanswered = "close"

// readHead reads a start line and header block, up to the empty line.
func readHead(br *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", err
		}
		b.WriteString(line)
		if line == "\r\n" {
			return b.String(), nil
		}
	}
}

// readChunked reads a chunked body: the data, and the trailer section.
func readChunked(br *bufio.Reader) (body, trailer string, err error) {
	var b, tr strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", "", err
		}
		size, err := strconv.ParseInt(strings.TrimSpace(strings.SplitN(line, ";", 2)[0]), 16, 64)
		if err != nil {
			return "", "", err
		}
		if size == 0 {
			break
		}
		chunk := make([]byte, size+2)
		if _, err := io.ReadFull(br, chunk); err != nil {
			return "", "", err
		}
		b.Write(chunk[:size])
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", "", err
		}
		if line == "\r\n" {
			return b.String(), tr.String(), nil
		}
		tr.WriteString(line)
	}
}

// headerLines is the values of the header block's lines named name,
// whatever the case of the name, in order.
func headerLines(head, name string) []string {
	var out []string
	for _, line := range strings.Split(head, "\r\n")[1:] {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, name) {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

// headerNames is how the header block spells the lines named name.
func headerNames(head, name string) []string {
	var out []string
	for _, line := range strings.Split(head, "\r\n")[1:] {
		if k, _, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, name) {
			out = append(out, k)
		}
	}
	return out
}

// wireDo sends req on a connection of its own and reads the response: its
// status line and header block as they came, and its body.
func wireDo(t *testing.T, addr, req string) (head, body string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second)) // a hang fails, not a slow machine
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	head, err = readHead(br)
	if err != nil {
		t.Fatalf("response: %v", err)
	}
	switch {
	case len(headerLines(head, "Transfer-Encoding")) > 0:
		body, _, err = readChunked(br)
	case len(headerLines(head, "Content-Length")) > 0:
		n, _ := strconv.Atoi(headerLines(head, "Content-Length")[0])
		b := make([]byte, n)
		_, err = io.ReadFull(br, b)
		body = string(b)
	}
	if err != nil {
		t.Fatalf("response body: %v", err)
	}
	return head, body
}

func status(head string) string { return strings.Fields(head)[1] }

const upstreamDateValue = "Sun, 06 Nov 1994 08:49:37 GMT"

// TestWireDateServer: an upstream's Date reaches the client as it came
// (Kong's proxy_pass_header Date), whatever the case of its name, once;
// without one, or when a plugin cleared it, the response carries one Date
// of the proxy's (nginx adds its own), as Kong's own responses (no Route,
// a plugin's exit) do. The upstream's Server is passed; without one Kong's
// when server_tokens is on, none when off; Kong's own responses carry
// Kong's, or none. With and without plugins (the response is then copied
// from the upstream's).
func TestWireDateServer(t *testing.T) {
	u := newWireUpstream(t, map[string]string{
		"dated": "HTTP/1.1 200 OK\r\nDate: " + upstreamDateValue + "\r\nServer: up\r\nContent-Length: 2\r\n\r\nok",
		"lower": "HTTP/1.1 200 OK\r\ndate: " + upstreamDateValue + "\r\nserver: up\r\nContent-Length: 2\r\n\r\nok",
		"plain": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
	})
	routes := []router.Route{{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/r"}, StripPath: true, ServiceID: "s1"}}
	ownDate := func(t *testing.T, what, head string) {
		t.Helper()
		dates := headerLines(head, "Date")
		if len(dates) != 1 || dates[0] == upstreamDateValue || headerNames(head, "Date")[0] != "Date" {
			t.Errorf("%s: Date lines %q, want one of the proxy's", what, dates)
			return
		}
		if _, err := http.ParseTime(dates[0]); err != nil {
			t.Errorf("%s: Date %q: %v", what, dates[0], err)
		}
	}
	for _, tc := range []struct {
		name    string
		headers []string // nil: Kong's default
		server  string   // Kong's Server, "" none
	}{{"server_tokens", nil, "kong/3.9.1"}, {"off", []string{}, ""}} {
		tp := startProxy(t, Config{Headers: tc.headers}, routes, svc("s1", u.port))
		for _, ph := range []Phases{nil, &hooks{
			access: func(c *Context) bool {
				if c.RequestCtx.Request.Header.Peek("X-Exit") != nil {
					c.KongError(403, "exit")
					return true
				}
				return false
			},
			header: func(c *Context) {
				if c.RequestCtx.Request.Header.Peek("X-Clear") != nil {
					h := &c.RequestCtx.Response.Header
					h.Del("Date")
				}
			},
		}} {
			tp.p.Phases = ph
			what := fmt.Sprintf("%s, plugins %v", tc.name, ph != nil)
			for _, path := range []string{"dated", "lower"} {
				head, body := wireDo(t, tp.addr, "GET /r/"+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
				if status(head) != "200" || body != "ok" {
					t.Fatalf("%s %s: %q %q", what, path, head, body)
				}
				want := map[string]string{"dated": "Date", "lower": "date"}[path]
				if d, n := headerLines(head, "Date"), headerNames(head, "Date"); len(d) != 1 || d[0] != upstreamDateValue || n[0] != want {
					t.Errorf("%s %s: Date lines %q %q, want the upstream's as %s", what, path, n, d, want)
				}
				if s := headerLines(head, "Server"); len(s) != 1 || s[0] != "up" {
					t.Errorf("%s %s: Server %q, want the upstream's", what, path, s)
				}
			}
			head, _ := wireDo(t, tp.addr, "GET /r/plain HTTP/1.1\r\nHost: x\r\n\r\n")
			ownDate(t, what+" upstream without Date", head)
			if s := strings.Join(headerLines(head, "Server"), ","); s != tc.server {
				t.Errorf("%s upstream without Server: Server %q, want %q", what, s, tc.server)
			}
			head, _ = wireDo(t, tp.addr, "GET /none HTTP/1.1\r\nHost: x\r\n\r\n")
			if status(head) != "404" {
				t.Fatalf("%s no route: %q", what, head)
			}
			ownDate(t, what+" no route", head)
			if s := strings.Join(headerLines(head, "Server"), ","); s != tc.server {
				t.Errorf("%s no route: Server %q, want %q", what, s, tc.server)
			}
			if ph == nil {
				continue
			}
			head, _ = wireDo(t, tp.addr, "GET /r/dated HTTP/1.1\r\nHost: x\r\nX-Clear: 1\r\n\r\n")
			ownDate(t, what+" Date cleared by a plugin", head)
			head, _ = wireDo(t, tp.addr, "GET /r/dated HTTP/1.1\r\nHost: x\r\nX-Exit: 1\r\n\r\n")
			if status(head) != "403" {
				t.Fatalf("%s exit: %q", what, head)
			}
			ownDate(t, what+" a plugin's exit", head)
		}
	}
}

// TestWireRepeatedHeaders: every Connection line of the upstream's
// response counts (their tokens all name headers to drop), and its Via
// lines are joined before Kong's, as nginx joins a header's lines in
// $upstream_http_connection and $upstream_http_via. On the request Kong
// reads the first line of each (get_header: ngx.req.get_headers' first
// value): Via and X-Forwarded-For extend the first, the first Connection
// names the headers dropped.
func TestWireRepeatedHeaders(t *testing.T) {
	u := newWireUpstream(t, map[string]string{
		"rep": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: X-A\r\nVia: 1.1 a\r\nX-A: 1\r\n" +
			"connection: keep-alive, X-B\r\nvia: 1.1 b\r\nX-B: 2\r\nX-C: 3\r\n\r\nok",
	})
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
	}, svc("s1", u.port))
	for _, ph := range []Phases{nil, &hooks{}} {
		tp.p.Phases = ph
		head, body := wireDo(t, tp.addr, "GET /rep HTTP/1.1\r\nHost: x\r\nVia: 1.0 c1\r\nvia: 1.0 c2\r\n"+
			"X-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2.2.2.2\r\nConnection: X-Q\r\nConnection: X-R\r\nX-Q: 1\r\nX-R: 2\r\n\r\n")
		if status(head) != "200" || body != "ok" {
			t.Fatalf("%q %q", head, body)
		}
		for name, want := range map[string]string{"X-A": "", "X-B": "", "X-C": "3", "Via": "1.1 a, 1.1 b, 1.1 kong/3.9.1"} {
			if got := strings.Join(headerLines(head, name), " | "); got != want {
				t.Errorf("plugins %v: response %s %q, want %q", ph != nil, name, got, want)
			}
		}
		up := u.last(t).head
		for name, want := range map[string]string{"Via": "1.0 c1, 1.1 kong/3.9.1", "X-Forwarded-For": "1.1.1.1, 127.0.0.1",
			"X-Q": "", "X-R": "2"} {
			if got := strings.Join(headerLines(up, name), " | "); got != want {
				t.Errorf("plugins %v: upstream %s %q, want %q", ph != nil, name, got, want)
			}
		}
	}
}

// forwardedEdits changes X-Forwarded-For and Via in rewrite and access.
type forwardedEdits struct {
	NopPhases
	rewrite, access func(h interface {
		Set(k, v string)
		Del(k string)
	})
}

func (f *forwardedEdits) Rewrite(c *Context) bool {
	if f.rewrite != nil {
		f.rewrite(&c.RequestCtx.Request.Header)
	}
	return false
}

func (f *forwardedEdits) Access(c *Context) bool {
	if f.access != nil {
		f.access(&c.RequestCtx.Request.Header)
	}
	return false
}

// TestWireForwardedBeforeAccess: Kong computes X-Forwarded-For and Via in
// access.before, after the rewrite plugins and before the access ones,
// and proxy_set_header sends those values: what an access plugin sets or
// clears under those names does not reach the upstream, what a rewrite
// plugin set does.
func TestWireForwardedBeforeAccess(t *testing.T) {
	u := newWireUpstream(t, nil)
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
	}, svc("s1", u.port))
	type header = interface {
		Set(k, v string)
		Del(k string)
	}
	set := func(h header) { h.Set("X-Forwarded-For", "6.6.6.6"); h.Set("Via", "9.9 plugin") }
	del := func(h header) { h.Del("X-Forwarded-For"); h.Del("Via") }
	for _, tc := range []struct {
		name            string
		rewrite, access func(header)
		client          string
		xff, via        string
	}{
		{"access sets", nil, set, "X-Forwarded-For: 1.1.1.1\r\nVia: 1.0 c\r\n", "1.1.1.1, 127.0.0.1", "1.0 c, 1.1 kong/3.9.1"},
		{"access sets, client sent none", nil, set, "", "127.0.0.1", "1.1 kong/3.9.1"},
		{"access clears", nil, del, "X-Forwarded-For: 1.1.1.1\r\nVia: 1.0 c\r\n", "1.1.1.1, 127.0.0.1", "1.0 c, 1.1 kong/3.9.1"},
		{"rewrite sets", set, nil, "X-Forwarded-For: 1.1.1.1\r\n", "6.6.6.6, 127.0.0.1", "9.9 plugin, 1.1 kong/3.9.1"},
	} {
		tp.p.Phases = &forwardedEdits{rewrite: tc.rewrite, access: tc.access}
		head, _ := wireDo(t, tp.addr, "GET / HTTP/1.1\r\nHost: x\r\n"+tc.client+"\r\n")
		if status(head) != "200" {
			t.Fatalf("%s: %q", tc.name, head)
		}
		up := u.last(t).head
		if got := strings.Join(headerLines(up, "X-Forwarded-For"), " | "); got != tc.xff {
			t.Errorf("%s: X-Forwarded-For %q, want %q", tc.name, got, tc.xff)
		}
		if got := strings.Join(headerLines(up, "Via"), " | "); got != tc.via {
			t.Errorf("%s: Via %q, want %q", tc.name, got, tc.via)
		}
	}
}

// wireDialer dials the upstream, counting the bytes written to it, and
// fails the dials it is told to.
type wireDialer struct {
	written atomic.Int64
	fail    atomic.Int32
}

func (d *wireDialer) dial(addr string) (net.Conn, error) {
	if d.fail.Load() > 0 {
		d.fail.Add(-1)
		return nil, errors.New("connection refused (test)")
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &wireConn{Conn: c, n: &d.written}, nil
}

type wireConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *wireConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// chunkedBody is body in chunks of at most 4 KiB, with trailer (a header
// block, "" none) after the last.
func chunkedBody(body, trailer string) string {
	var b strings.Builder
	for s := body; s != ""; {
		n := min(len(s), 4096)
		fmt.Fprintf(&b, "%x\r\n%s\r\n", n, s[:n])
		s = s[n:]
	}
	return b.String() + "0\r\n" + trailer + "\r\n"
}

// TestWireRequestBuffering: with the Route's request_buffering (Kong's
// default) the whole body is read before the upstream is called and sent
// with its Content-Length, a chunked one de-chunked, its trailer fields
// dropped; a body past client_body_buffer_size is buffered in a temporary
// file (removed: the directory stays empty) and sent again whole on a
// retry; past client_max_body_size, or malformed, it is answered 413 or
// 400 and nothing is sent upstream. Without it a chunked body stays
// chunked. Buffered proxying (a plugin with a response handler) reads it
// whole on any Route.
func TestWireRequestBuffering(t *testing.T) {
	u := newWireUpstream(t, nil)
	tmp := t.TempDir()
	d := &wireDialer{}
	s1 := svc("s1", u.port)
	s2 := svc("s2", u.port)
	s2.ReadTimeout++ // a pool of its own: its first request dials
	tp := startProxy(t, Config{ClientBodyBufferSize: 1024, ClientBodyTempPath: tmp, ClientMaxBodySize: 64 << 10, Dial: d.dial},
		[]router.Route{
			{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/buf"}, ServiceID: "s1", RequestBuffering: true},
			{ID: "00000000-0000-0000-0000-000000000002", Paths: []string{"/unbuf"}, ServiceID: "s1"},
			{ID: "00000000-0000-0000-0000-000000000003", Paths: []string{"/retry"}, ServiceID: "s2", RequestBuffering: true},
		}, s1, s2)
	h := &hooks{access: func(c *Context) bool {
		c.BufferResponse = c.RequestCtx.Request.Header.Peek("X-Buffer-Response") != nil
		return false
	}}
	tp.p.Phases = h
	post := func(path, extra, body string) string {
		return "POST " + path + " HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n" + body
	}
	emptyTmp := func(what string) {
		t.Helper()
		if ents, err := os.ReadDir(tmp); err != nil || len(ents) != 0 {
			t.Errorf("%s: temporary files left: %v %v", what, ents, err)
		}
	}
	big := strings.Repeat("0123456789abcdef", 40<<10/16)
	for _, tc := range []struct {
		name, path, extra, body, want string
		chunked                       bool // as the upstream gets it
	}{
		{"chunked, trailer", "/buf", "Transfer-Encoding: chunked\r\nTrailer: X-T\r\n", chunkedBody("hello world", "X-T: v\r\n"),
			"hello world", false},
		{"chunked, buffered in a file", "/buf", "Transfer-Encoding: chunked\r\n", chunkedBody(big, ""), big, false},
		{"length, buffered in a file", "/buf", "Content-Length: " + strconv.Itoa(len(big)) + "\r\n", big, big, false},
		{"chunked, empty", "/buf", "Transfer-Encoding: chunked\r\n", chunkedBody("", ""), "", false},
		{"unbuffered chunked", "/unbuf", "Transfer-Encoding: chunked\r\n", chunkedBody(big, ""), big, true},
		{"unbuffered chunked, buffered proxying", "/unbuf", "Transfer-Encoding: chunked\r\nX-Buffer-Response: 1\r\n",
			chunkedBody("hello world", ""), "hello world", false},
		{"retried after a failed dial", "/retry", "Transfer-Encoding: chunked\r\n", chunkedBody(big, ""), big, false},
	} {
		if tc.path == "/retry" {
			d.fail.Store(1)
		}
		head, body := wireDo(t, tp.addr, post(tc.path, tc.extra, tc.body))
		if status(head) != "200" || body != "ok" {
			t.Fatalf("%s: %q %q", tc.name, head, body)
		}
		r := u.last(t)
		cl, te := headerLines(r.head, "Content-Length"), headerLines(r.head, "Transfer-Encoding")
		if tc.chunked {
			if len(cl) != 0 || len(te) != 1 || !r.chunked {
				t.Errorf("%s: Content-Length %q Transfer-Encoding %q, want chunked", tc.name, cl, te)
			}
		} else if len(cl) != 1 || cl[0] != strconv.Itoa(len(tc.want)) || len(te) != 0 || r.chunked {
			t.Errorf("%s: Content-Length %q Transfer-Encoding %q, want Content-Length %d", tc.name, cl, te, len(tc.want))
		}
		if r.body != tc.want || r.trailer != "" || len(headerLines(r.head, "Trailer")) != 0 {
			t.Errorf("%s: body %d bytes (%.20q), trailer %q, Trailer %q", tc.name, len(r.body), r.body, r.trailer,
				headerLines(r.head, "Trailer"))
		}
		emptyTmp(tc.name)
	}
	if d.fail.Load() != 0 {
		t.Errorf("the retry's dial did not fail")
	}

	for _, tc := range []struct{ name, path, extra, body, status string }{
		{"past client_max_body_size", "/buf", "Transfer-Encoding: chunked\r\n", chunkedBody(strings.Repeat("x", 80<<10), ""), "413"},
		{"malformed", "/buf", "Transfer-Encoding: chunked\r\n", "5\r\nhello\r\nzz\r\n", "400"},
		{"malformed, past client_body_buffer_size", "/buf", "Transfer-Encoding: chunked\r\n",
			strings.TrimSuffix(chunkedBody(strings.Repeat("y", 8<<10), ""), "0\r\n\r\n") + "zz\r\n", "400"},
	} {
		before := d.written.Load()
		head, _ := wireDo(t, tp.addr, post(tc.path, tc.extra, tc.body))
		if status(head) != tc.status {
			t.Errorf("%s: %q, want %s", tc.name, head, tc.status)
		}
		if n := d.written.Load() - before; n != 0 {
			t.Errorf("%s: %d bytes went upstream", tc.name, n)
		}
		emptyTmp(tc.name)
	}
}

// TestWireKongHeadersAfterHeaderFilter: Kong sets its downstream headers
// in header_filter.after, once the plugins' header_filter ran: a plugin
// there sees none of them, and what it sets under their names is replaced
// (Via, the latencies, X-Kong-Request-Id); a proxied response's Server is
// Kong's only where none is left (the plugin cleared the upstream's), Kong's
// own responses get Kong's over a plugin's.
func TestWireKongHeadersAfterHeaderFilter(t *testing.T) {
	u := newWireUpstream(t, map[string]string{
		"served": "HTTP/1.1 200 OK\r\nServer: up\r\nContent-Length: 2\r\n\r\nok",
	})
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/r"}, ServiceID: "s1"},
	}, svc("s1", u.port))
	var mu sync.Mutex
	var seen []string
	tp.p.Phases = &hooks{header: func(c *Context) {
		h := &c.RequestCtx.Response.Header
		mu.Lock()
		for _, k := range []string{"Via", "X-Kong-Proxy-Latency", "X-Kong-Upstream-Latency", "X-Kong-Response-Latency",
			"X-Kong-Request-Id"} {
			if h.Peek(k) != nil {
				seen = append(seen, k)
			}
		}
		mu.Unlock()
		for _, k := range []string{"Via", "X-Kong-Proxy-Latency", "X-Kong-Response-Latency", "X-Kong-Request-Id"} {
			h.Set(k, "plugin")
		}
		if c.Proxied {
			h.Del("Server")
		} else {
			h.Set("Server", "plugin")
		}
	}}
	for _, path := range []string{"/r/served", "/none"} {
		head, _ := wireDo(t, tp.addr, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		for _, k := range []string{"Via", "X-Kong-Proxy-Latency", "X-Kong-Response-Latency", "X-Kong-Request-Id", "Server"} {
			v := headerLines(head, k)
			if path == "/r/served" && k == "X-Kong-Response-Latency" || path == "/none" && (k == "Via" || k == "X-Kong-Proxy-Latency") {
				continue // the plugin's: Kong sets none there
			}
			if len(v) != 1 || v[0] == "plugin" {
				t.Errorf("%s: %s %q, want Kong's", path, k, v)
			}
		}
	}
	if len(seen) != 0 {
		t.Errorf("header_filter saw %q", seen)
	}
}

// TestWireRequestBufferingBalancedRetry: a body buffered in a temporary
// file is sent whole again to the balancer's next target when the first
// closed the connection without answering (an idempotent method).
func TestWireRequestBufferingBalancedRetry(t *testing.T) {
	closer := newWireUpstream(t, map[string]string{"put": closeUnanswered})
	good := newWireUpstream(t, nil)
	reg := &balancer.Registry{}
	t.Cleanup(reg.Close)
	reg.Rebuild(context.Background(), []map[string]any{upstreamRow(nil)},
		[]map[string]any{targetRow(closer.port, 100), targetRow(good.port, 100)})
	s := svc("s1", 80)
	s.Host = "my-upstream"
	s.Retries = 2
	tp := startProxy(t, Config{Balancer: reg, ClientBodyBufferSize: 1024, ClientBodyTempPath: t.TempDir()}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1", RequestBuffering: true},
	}, s)
	big := strings.Repeat("0123456789abcdef", 40<<10/16)
	retried := 0
	for i := 0; i < 4; i++ {
		head, body := wireDo(t, tp.addr, "PUT /put HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"+chunkedBody(big, ""))
		if status(head) != "200" || body != "ok" {
			t.Fatalf("%q %q", head, body)
		}
		closer.mu.Lock()
		retried = len(closer.got)
		closer.mu.Unlock()
		r := good.last(t)
		if cl := headerLines(r.head, "Content-Length"); len(cl) != 1 || cl[0] != strconv.Itoa(len(big)) || r.body != big {
			t.Fatalf("%d: Content-Length %q, body %d bytes", i, cl, len(r.body))
		}
	}
	if retried == 0 {
		t.Fatal("no request went to the target that closes first")
	}
	closer.mu.Lock()
	defer closer.mu.Unlock()
	for _, r := range closer.got {
		if r.body != big {
			t.Fatalf("the first target got %d bytes", len(r.body))
		}
	}
}
