package proxy

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luahost/luahost/router"
)

// upstream is a test upstream recording what it received.
type upstream struct {
	ln   net.Listener
	srv  *http.Server
	port int
	mu   sync.Mutex
	got  []*http.Request
	hold chan struct{} // when set, requests to /slow wait on it
}

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream{ln: ln, port: ln.Addr().(*net.TCPAddr).Port}
	u.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		u.mu.Lock()
		u.got = append(u.got, r)
		hold := u.hold
		u.mu.Unlock()
		if strings.HasPrefix(r.URL.Path, "/slow") && hold != nil {
			<-hold
		}
		w.Header().Set("X-Upstream", "yes")
		fmt.Fprintf(w, "%s %s %s", r.Method, r.RequestURI, body)
	})}
	go u.srv.Serve(ln)
	t.Cleanup(func() { u.srv.Close() })
	return u
}

func (u *upstream) last(t *testing.T) *http.Request {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.got) == 0 {
		t.Fatal("upstream received nothing")
	}
	return u.got[len(u.got)-1]
}

type testProxy struct {
	p       *Proxy
	s       *Server
	rt      *router.Versioned
	addr    string
	port    int
	tlsAddr string // the "ssl http2" listener
}

func startProxy(t *testing.T, cfg Config, routes []router.Route, services ...*router.Service) *testProxy {
	t.Helper()
	rt := &router.Versioned{}
	sm := map[string]*router.Service{}
	for _, s := range services {
		sm[s.ID] = s
	}
	if _, err := rt.Rebuild(routes, sm); err != nil {
		t.Fatal(err)
	}
	if cfg.KongVersion == "" {
		cfg.KongVersion = "3.9.1"
	}
	if cfg.GetCertificate == nil {
		def, err := SelfSignedCertificate()
		if err != nil {
			t.Fatal(err)
		}
		cfg.GetCertificate = NewCertificates(def, nil).GetCertificate
	}
	p := New(rt, cfg)
	ls, err := ParseListen("proxy_listen", "127.0.0.1:0 reuseport backlog=16384, 127.0.0.1:0 http2 ssl")
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.Listen(ls)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.h2lns) != 1 || len(s.Addrs) != 2 {
		t.Fatalf("listeners: %v, %d with HTTP/2", s.Addrs, len(s.h2lns))
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
		<-done
	})
	return &testProxy{p: p, s: s, rt: rt, addr: s.Addrs[0].String(), port: s.Addrs[0].(*net.TCPAddr).Port,
		tlsAddr: s.Addrs[1].String()}
}

func svc(id string, port int) *router.Service {
	return &router.Service{ID: id, Protocol: "http", Host: "127.0.0.1", Port: port, Retries: 5,
		ConnectTimeout: 2000, ReadTimeout: 2000, WriteTimeout: 2000}
}

var client = &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}}

func do(t *testing.T, method, url string, hdr map[string]string, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

var ridRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

func checkKongHeaders(t *testing.T, res *http.Response, proxied bool) {
	t.Helper()
	rid := res.Header.Get("X-Kong-Request-Id")
	if !ridRe.MatchString(rid) {
		t.Errorf("X-Kong-Request-Id = %q", rid)
	}
	if proxied {
		for _, h := range []string{"X-Kong-Upstream-Latency", "X-Kong-Proxy-Latency"} {
			if res.Header.Get(h) == "" {
				t.Errorf("no %s", h)
			}
		}
		if v := res.Header.Get("Via"); v != "1.1 kong/3.9.1" {
			t.Errorf("Via = %q", v)
		}
		if res.Header.Get("X-Kong-Response-Latency") != "" {
			t.Errorf("X-Kong-Response-Latency on a proxied response")
		}
	} else {
		if res.Header.Get("Server") != "kong/3.9.1" {
			t.Errorf("Server = %q", res.Header.Get("Server"))
		}
		if res.Header.Get("X-Kong-Response-Latency") == "" {
			t.Errorf("no X-Kong-Response-Latency")
		}
		if res.Header.Get("Via") != "" || res.Header.Get("X-Kong-Upstream-Latency") != "" {
			t.Errorf("proxy headers on a Kong response: %v", res.Header)
		}
	}
}

func TestProxyForwards(t *testing.T) {
	u := newUpstream(t)
	s := svc("s1", u.port)
	s.Path = "/base"
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/api"}, StripPath: true, ServiceID: "s1"},
		{ID: "00000000-0000-0000-0000-000000000002", Paths: []string{"/keep"}, StripPath: false, PreserveHost: true, ServiceID: "s1"},
	}, s)

	res, body := do(t, "POST", "http://"+tp.addr+"/api/users/42?x=1&y=%20", map[string]string{
		"Host": "example.com:9999", "X-Forwarded-For": "10.0.0.1", "Connection": "keep-alive, X-Hop",
		"X-Hop": "secret", "Keep-Alive": "timeout=5", "Via": "1.0 other",
	}, "hello")
	if res.StatusCode != 200 || body != "POST /base/users/42?x=1&y=%20 hello" {
		t.Fatalf("%d %q", res.StatusCode, body)
	}
	checkKongHeaders(t, res, true)
	if res.Header.Get("X-Upstream") != "yes" || res.Header.Get("Server") != "kong/3.9.1" {
		t.Errorf("response headers: %v", res.Header)
	}
	r := u.last(t)
	want := map[string]string{
		"X-Forwarded-For":    "10.0.0.1, 127.0.0.1",
		"X-Forwarded-Proto":  "http",
		"X-Forwarded-Host":   "example.com",
		"X-Forwarded-Port":   fmt.Sprint(tp.port),
		"X-Forwarded-Path":   "/api/users/42",
		"X-Forwarded-Prefix": "/api",
		"X-Real-Ip":          "127.0.0.1",
		"Via":                "1.0 other, 1.1 kong/3.9.1",
		"X-Hop":              "",
		"Keep-Alive":         "",
	}
	for k, v := range want {
		if got := r.Header.Get(k); got != v {
			t.Errorf("upstream %s = %q, want %q", k, got, v)
		}
	}
	if r.Host != fmt.Sprintf("127.0.0.1:%d", u.port) {
		t.Errorf("upstream Host = %q", r.Host)
	}
	if rid := r.Header.Get("X-Kong-Request-Id"); rid != res.Header.Get("X-Kong-Request-Id") {
		t.Errorf("request id upstream %q, downstream %q", rid, res.Header.Get("X-Kong-Request-Id"))
	}

	res, body = do(t, "GET", "http://"+tp.addr+"/keep/a", map[string]string{"Host": "keep.example:8000"}, "")
	if res.StatusCode != 200 || body != "GET /base/keep/a " {
		t.Fatalf("%d %q", res.StatusCode, body)
	}
	r = u.last(t)
	if r.Host != "keep.example:8000" || r.Header.Get("X-Forwarded-Prefix") != "" || r.Header.Get("X-Forwarded-Host") != "keep.example" {
		t.Errorf("preserve_host: Host %q prefix %q fhost %q", r.Host, r.Header.Get("X-Forwarded-Prefix"), r.Header.Get("X-Forwarded-Host"))
	}
}

func TestProxyTrustedForwarded(t *testing.T) {
	u := newUpstream(t)
	trusted, _ := ParseTrustedIPs([]string{"127.0.0.1"})
	tp := startProxy(t, Config{TrustedIPs: trusted}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
	}, svc("s1", u.port))
	res, _ := do(t, "GET", "http://"+tp.addr+"/p", map[string]string{
		"X-Real-IP": "192.0.2.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "front.example",
		"X-Forwarded-Port": "443", "X-Forwarded-For": "192.0.2.7",
	}, "")
	if res.StatusCode != 200 {
		t.Fatal(res.StatusCode)
	}
	r := u.last(t)
	for k, v := range map[string]string{"X-Real-Ip": "192.0.2.7", "X-Forwarded-Proto": "https",
		"X-Forwarded-Host": "front.example", "X-Forwarded-Port": "443", "X-Forwarded-For": "192.0.2.7, 127.0.0.1"} {
		if got := r.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func TestProxyKongErrors(t *testing.T) {
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/nosvc"}},
		{ID: "00000000-0000-0000-0000-000000000002", Paths: []string{"/tls"}, Protocols: []string{"https"}, ServiceID: "s1"},
		{ID: "00000000-0000-0000-0000-000000000003", Paths: []string{"/moved"}, Protocols: []string{"https"},
			HTTPSRedirectStatusCode: 301, ServiceID: "s1"},
	}, svc("s1", 1))

	res, body := do(t, "GET", "http://"+tp.addr+"/nothing", nil, "")
	rid := res.Header.Get("X-Kong-Request-Id")
	if res.StatusCode != 404 || body != "{\n  \"message\":\"no Route matched with those values\",\n  \"request_id\":\""+rid+"\"\n}" ||
		res.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("404: %d %q %v", res.StatusCode, body, res.Header)
	}
	checkKongHeaders(t, res, false)

	for accept, want := range map[string]string{
		"text/html": "<!doctype html>\n<html>\n  <head>\n    <meta charset=\"utf-8\">\n    <title>Error</title>\n  </head>\n  <body>\n    <h1>Error</h1>\n    <p>no Route matched with those values.</p>\n    <p>request_id: %s</p>\n  </body>\n</html>\n",
		"application/xml;q=0.9, text/plain;q=0.8": "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<error>\n  <message>no Route matched with those values</message>\n  <requestid>%s</requestid>\n</error>\n",
		"text/*;q=0.3, image/png;q=0.1":           "no Route matched with those values\nrequest_id: %s\n",
	} {
		res, body := do(t, "GET", "http://"+tp.addr+"/nothing", map[string]string{"Accept": accept}, "")
		if w := fmt.Sprintf(want, res.Header.Get("X-Kong-Request-Id")); body != w {
			t.Errorf("Accept %s: %q, want %q", accept, body, w)
		}
	}

	res, body = do(t, "GET", "http://"+tp.addr+"/nosvc", nil, "")
	if res.StatusCode != 503 || !strings.Contains(body, `"message":"no Service found with those values"`) {
		t.Errorf("503: %d %q", res.StatusCode, body)
	}
	checkKongHeaders(t, res, false)

	res, body = do(t, "GET", "http://"+tp.addr+"/tls?a=1", nil, "")
	if res.StatusCode != 426 || !strings.Contains(body, `"message":"Please use HTTPS protocol"`) ||
		res.Header.Get("Upgrade") != "TLS/1.2, HTTP/1.1" {
		t.Errorf("426: %d %q %v", res.StatusCode, body, res.Header)
	}
	res, body = do(t, "GET", "http://"+tp.addr+"/moved?a=1", map[string]string{"Host": "h.example:8000"}, "")
	if res.StatusCode != 301 || res.Header.Get("Location") != "https://h.example/moved?a=1" || body != "" {
		t.Errorf("301: %d %q %v", res.StatusCode, body, res.Header)
	}
}

func TestProxyUpstreamFailures(t *testing.T) {
	u := newUpstream(t)
	// A port nobody listens on.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closedPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	// An upstream that accepts and resets.
	rst, _ := net.Listen("tcp", "127.0.0.1:0")
	defer rst.Close()
	go func() {
		for {
			c, err := rst.Accept()
			if err != nil {
				return
			}
			bufio.NewReader(c).ReadString('\n')
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}
	}()
	// An upstream that never answers.
	hang, _ := net.Listen("tcp", "127.0.0.1:0")
	defer hang.Close()
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := hang.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	slow := svc("hang", hang.Addr().(*net.TCPAddr).Port)
	slow.ReadTimeout = 200
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/refused"}, ServiceID: "refused"},
		{ID: "00000000-0000-0000-0000-000000000002", Paths: []string{"/reset"}, ServiceID: "reset"},
		{ID: "00000000-0000-0000-0000-000000000003", Paths: []string{"/hang"}, ServiceID: "hang"},
		{ID: "00000000-0000-0000-0000-000000000004", Paths: []string{"/ok"}, ServiceID: "ok"},
	}, svc("refused", closedPort), svc("reset", rst.Addr().(*net.TCPAddr).Port), slow, svc("ok", u.port))

	for _, c := range []struct {
		path   string
		status int
		msg    string
	}{
		{"/refused", 502, "An invalid response was received from the upstream server"},
		{"/reset", 502, "An invalid response was received from the upstream server"},
		{"/hang", 504, "The upstream server is timing out"},
	} {
		res, body := do(t, "GET", "http://"+tp.addr+c.path, nil, "")
		rid := res.Header.Get("X-Kong-Request-Id")
		if res.StatusCode != c.status || body != c.msg+"\nrequest_id: "+rid+"\n" ||
			res.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("%s: %d %q %v", c.path, res.StatusCode, body, res.Header)
		}
		checkKongHeaders(t, res, true)
		if res.Header.Get("Server") != "kong/3.9.1" {
			t.Errorf("%s: Server %q", c.path, res.Header.Get("Server"))
		}
		res, body = do(t, "GET", "http://"+tp.addr+c.path, map[string]string{"Accept": "application/json"}, "")
		if !strings.HasPrefix(body, "{\n  \"message\":\""+c.msg+"\"") {
			t.Errorf("%s json: %q", c.path, body)
		}
		res, body = do(t, "GET", "http://"+tp.addr+"/ok", nil, "")
		if res.StatusCode != 200 || body != "GET /ok " {
			t.Errorf("after %s: %d %q", c.path, res.StatusCode, body)
		}
	}
}

// raw sends bytes on a new connection and returns the response read.
func raw(t *testing.T, addr, req string) (*http.Response, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, req)
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestProxyMalformed(t *testing.T) {
	u := newUpstream(t)
	tp := startProxy(t, Config{ClientMaxBodySize: 10}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
	}, svc("s1", u.port))
	cases := []struct {
		name, req string
		status    int
		msg       string
	}{
		{"bad request line", "GARBAGE\r\n\r\n", 400, "Bad request"},
		{"header too large", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 40<<10) + "\r\n\r\n", 400,
			"Request header or cookie too large"},
		{"body too large", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world", 413, "Payload too large"},
		{"bad chunking", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400, "Bad request"},
		// nginx bounds each line to one of large_client_header_buffers'
		// 8k buffers: a longer header line is 494 (Kong's 400), a longer
		// request line 414
		{"header line too large", "GET / HTTP/1.1\r\nHost: x\r\nX-Large: " + strings.Repeat("a", 10<<10) + "\r\n\r\n", 400,
			"Request header or cookie too large"},
		{"request line too large", "GET /" + strings.Repeat("a", 9<<10) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414, "URI too long"},
		// nginx refuses TRACE before any phase
		{"trace", "TRACE / HTTP/1.1\r\nHost: x\r\n\r\n", 405, "Method not allowed"},
	}
	for _, c := range cases {
		res, body := raw(t, tp.addr, c.req)
		rid := res.Header.Get("X-Kong-Request-Id")
		if res.StatusCode != c.status || body != c.msg+"\nrequest_id: "+rid+"\n" {
			t.Errorf("%s: %d %q", c.name, res.StatusCode, body)
		}
		checkKongHeaders(t, res, false)
	}
	res, body := do(t, "GET", "http://"+tp.addr+"/fine", nil, "")
	if res.StatusCode != 200 || body != "GET /fine " {
		t.Errorf("after malformed: %d %q", res.StatusCode, body)
	}
}

func TestProxyGracefulShutdown(t *testing.T) {
	u := newUpstream(t)
	u.hold = make(chan struct{})
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
	}, svc("s1", u.port))
	type result struct {
		status int
		body   string
		err    error
	}
	got := make(chan result, 1)
	go func() {
		res, err := http.Get("http://" + tp.addr + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		got <- result{status: res.StatusCode, body: string(b)}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		u.mu.Lock()
		n := len(u.got)
		u.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("request never reached the upstream")
		}
		time.Sleep(5 * time.Millisecond)
	}
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- tp.s.Shutdown(ctx)
	}()
	// New connections are refused once the listener is closed.
	for {
		c, err := net.Dial("tcp", tp.addr)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting after Shutdown")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(u.hold)
	r := <-got
	if r.err != nil || r.status != 200 || r.body != "GET /slow " {
		t.Errorf("in-flight request: %+v", r)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

func TestParseListen(t *testing.T) {
	ls, err := ParseListen("proxy_listen", "0.0.0.0:8000 reuseport backlog=16384, 0.0.0.0:8443 http2 ssl reuseport backlog=16384, [::1]:9000")
	if err != nil || len(ls) != 3 || ls[0].Addr != "0.0.0.0:8000" || !ls[0].ReusePort || ls[0].Backlog != 16384 ||
		!ls[1].SSL || !ls[1].HTTP2 || ls[2].Addr != "[::1]:9000" {
		t.Fatalf("%+v %v", ls, err)
	}
	if ls, err := ParseListen("proxy_listen", "off"); err != nil || ls != nil {
		t.Fatalf("off: %v %v", ls, err)
	}
	for _, bad := range []string{"", "8000", "0.0.0.0", "0.0.0.0:8000 bogus", "0.0.0.0:99999", "0.0.0.0:8000 backlog=x"} {
		if _, err := ParseListen("proxy_listen", bad); err == nil || !strings.HasPrefix(err.Error(), "proxy_listen must be of form: [off] | <ip>:<port>") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestResponseType(t *testing.T) {
	for accept, want := range map[string]string{
		"":                                 mimeJSON,
		"*/*":                              mimeJSON,
		"text/html":                        mimeHTML,
		"text/html;q=0.1, application/xml": mimeXML,
		"application/xml;q=0.5, text/plain;q=0.9": mimePlain,
		"text/*":        mimePlain,
		"application/*": mimeJSON,
		"image/png":     mimeJSON,
		"TEXT/HTML":     mimeJSON, // parsed, but Kong's lookup is case-sensitive
		"text/html;level=1;q=0.2, text/plain;q=0.1": mimeHTML,
		"garbage, text/xml, text/html":              mimeJSON, // text/xml is unknown: JSON, at q=1
	} {
		got := responseType(accept)
		if got != want {
			t.Errorf("%q: %q, want %q", accept, got, want)
		}
	}
}

// A Shutdown that comes before Serve has started still makes Serve return.
func TestShutdownBeforeServe(t *testing.T) {
	p := New(&router.Versioned{}, Config{})
	ls, _ := ParseListen("proxy_listen", "127.0.0.1:0")
	s, err := p.Listen(ls)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
}

// A bare "?" the client sent reaches the upstream, as nginx's
// proxy_pass with $upstream_uri$is_args$args sends it.
func TestProxyBareQueryMark(t *testing.T) {
	u := newUpstream(t)
	tp := startProxy(t, Config{}, []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/"}, ServiceID: "s1"},
	}, svc("s1", u.port))
	for uri, want := range map[string]string{"/request?": "/request?", "/request": "/request", "/get?hello": "/get?hello"} {
		res, body := do(t, "GET", "http://"+tp.addr+uri, nil, "")
		if res.StatusCode != 200 || body != "GET "+want+" " {
			t.Errorf("%s: %d %q, want %q upstream", uri, res.StatusCode, body, want)
		}
	}
}
