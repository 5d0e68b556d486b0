package proxy

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"iter"
	"net"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/luahost/luahost/router"
)

var update = flag.Bool("update", false, "rewrite testdata/headers.golden")

// rawUpstream answers each request with the canned response its path
// names (/r/<name>), recording the request as it came on the wire: its
// first line and header block, header names and order as sent.
type rawUpstream struct {
	ln  *fasthttputil.InmemoryListener
	mu  sync.Mutex
	got []string
}

var rawResponses = map[string]string{
	"plain": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Up: 1\r\n\r\nok",
	"hop": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive, X-Up-Hop\r\nX-Up-Hop: 1\r\n" +
		"Keep-Alive: timeout=5\r\nUpgrade: foo\r\nTrailer: X-Tr\r\nVia: 1.1 upstream\r\nX-Other: o\r\nServer: up\r\n\r\nok",
	"lower": "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: x-up-hop\r\nx-up-hop: 1\r\n" +
		"keep-alive: 1\r\nupgrade: x\r\ntrailer: X-Tr\r\nvia: 1.0 up\r\n\r\nok",
	"empty":   "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive:\r\nUpgrade:\r\nVia:\r\nConnection:\r\n\r\nok",
	"dup":     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: a\r\nKeep-Alive: b\r\nUpgrade: u\r\nUpgrade: v\r\n\r\nok",
	"close":   "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close, X-Up-Hop\r\nX-Up-Hop: 1\r\n\r\nok",
	"chunked": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Tr\r\n\r\n2\r\nok\r\n0\r\nX-Tr: v\r\n\r\n",
	"trailer-hop": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: Upgrade, X-Tr\r\n\r\n2\r\nok\r\n0\r\n" +
		"Upgrade: in-trailer\r\nX-Tr: v\r\n\r\n",
	"cookie": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: a=b\r\nset-cookie: c=d\r\nKeep-Alive: 1\r\n\r\nok",
	// names in mixed case, the headers Kong sets among them
	"mixed": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nCONNECTION: X-Up-Hop, Keep-Alive\r\nx-up-hop: 1\r\nX-UP-HOP: 2\r\n" +
		"Keep-alive: timeout=5\r\nUPGRADE: foo\r\nTRAILER: X-Tr\r\nVIA: 1.1 up\r\nx-kong-request-id: up\r\n" +
		"X-KONG-UPSTREAM-LATENCY: 999\r\nx-kong-proxy-latency: 998\r\nX-Other: o\r\n\r\nok",
	"both-cases": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nVia: 1.1 a\r\nvia: 1.1 b\r\nConnection: X-A\r\nconnection: X-B\r\n" +
		"x-a: 1\r\nx-b: 2\r\n\r\nok",
	// lines repeated under one spelling: Connection's tokens and Via's
	// values all count, as nginx joins them ($upstream_http_*)
	"repeated": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nVia: 1.1 a\r\nConnection: X-A\r\nVia: 1.1 b\r\nX-A: 1\r\n" +
		"Connection: keep-alive, X-B\r\nX-B: 2\r\nX-C: 3\r\n\r\nok",
	// the upstream's Date and Server are passed, Date as spelled
	"dated":       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nDate: " + upstreamDate + "\r\nServer: up\r\n\r\nok",
	"dated-lower": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\ndate: " + upstreamDate + "\r\nserver: up\r\n\r\nok",
}

// upstreamDate is the Date the canned responses carry (left unmasked).
const upstreamDate = "Sun, 06 Nov 1994 08:49:37 GMT"

func newRawUpstream(t *testing.T) *rawUpstream {
	u := &rawUpstream{ln: fasthttputil.NewInmemoryListener()}
	t.Cleanup(func() { u.ln.Close() })
	go func() {
		for {
			conn, err := u.ln.Accept()
			if err != nil {
				return
			}
			go u.serve(conn)
		}
	}()
	return u
}

func (u *rawUpstream) serve(conn net.Conn) {
	defer conn.Close()
	br := bufio.NewReader(conn)
	for {
		var req fasthttp.Request
		req.Header.DisableNormalizing()
		if err := req.Read(br); err != nil {
			return
		}
		h := &req.Header
		rec := fmt.Sprintf("%s %s %s\r\n%sbody=%q trailers=%q", h.Method(), h.RequestURI(), h.Protocol(),
			h.RawHeaders(), req.Body(), trailerSection(h))
		u.mu.Lock()
		u.got = append(u.got, rec)
		u.mu.Unlock()
		name := strings.TrimPrefix(string(h.RequestURI()), "/r/")
		if i := strings.IndexByte(name, '?'); i >= 0 {
			name = name[:i]
		}
		resp, ok := rawResponses[name]
		if !ok {
			resp = rawResponses["plain"]
		}
		if _, err := conn.Write([]byte(resp)); err != nil {
			return
		}
	}
}

// trailerSection is the trailer names a header announces, with their
// values.
func trailerSection(h interface {
	Trailers() iter.Seq[[]byte]
	PeekCanonical([]byte) []byte
}) string {
	var s []string
	for t := range h.Trailers() {
		s = append(s, string(t)+"="+string(h.PeekCanonical(t)))
	}
	return strings.Join(s, ",")
}

func (u *rawUpstream) last() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.got) == 0 {
		return "(nothing)"
	}
	s := u.got[len(u.got)-1]
	u.got = nil
	return s
}

// headerEdits is a Phases changing headers in access and response, as
// plugins do: what the proxy does after them must see their changes.
type headerEdits struct{ NopPhases }

func (headerEdits) Access(c *Context) bool {
	h := &c.RequestCtx.Request.Header
	if h.Peek("X-Edit") != nil {
		h.Set("Upgrade", "set-in-access")
		h.Add("Keep-Alive", "added-in-access")
		h.Set("X-Forwarded-Prefix", "/from-access")
		h.Set("Via", "1.0 access")
		h.Del("X-Forwarded-For")
		h.Set("Connection", "X-Drop")
		h.Set("X-Drop", "1")
	}
	return false
}

func (headerEdits) Response(c *Context) {
	if c.RequestCtx.Request.Header.Peek("X-Edit") != nil {
		h := &c.RequestCtx.Response.Header
		h.Set("Via", "1.0 response")
		h.Set("Keep-Alive", "set-in-response")
	}
}

// mixedHeaders are hop-by-hop and forwarded headers with names in mixed
// case.
const mixedHeaders = "CONNECTION: X-Foo, keep-alive\r\nx-foo: 1\r\nX-FOO: 2\r\nKeep-alive: 1\r\nUPGRADE: h2c\r\nExpect: foo\r\n" +
	"Te: trailers, gzip\r\nVIA: 1.0 m\r\nX-FORWARDED-FOR: 1.2.3.4\r\nx-Forwarded-Proto: https\r\nX-Forwarded-HOST: evil\r\n" +
	"x-forwarded-port: 1\r\nX-Forwarded-path: /p\r\nX-FORWARDED-PREFIX: /x\r\nX-REAL-IP: 1.1.1.1\r\n" +
	"X-Kong-Request-ID: client\r\nX-Keep: k\r\n"

// TestHeadersGolden: what the upstream receives (request line and header
// block as on the wire) and the response headers the client is given, for
// requests and upstream responses carrying hop-by-hop, forwarded, special
// (Connection, Cookie, Trailer) headers, in canonical and lower case,
// empty, repeated; the request headers as the proxy's server keeps them
// (names as sent) and normalised; without Phases, with NopPhases and with
// Phases changing headers in access and response. testdata/headers.golden
// was recorded from the proxy before its header operations were
// rewritten (SetCanonical, the presence scans), then again once the
// headers Kong sets or removes were found whatever the case of their
// names (the cases with mixed-case names were recorded before that fix
// too, to review its diff); go test -run TestHeadersGolden -update
// rewrites it.
func TestHeadersGolden(t *testing.T) {
	u := newRawUpstream(t)
	dial := func(string) (net.Conn, error) { return u.ln.Dial() }
	s := &router.Service{ID: "s1", Protocol: "http", Host: "127.0.0.1", Port: 8080, Retries: 0,
		ConnectTimeout: 2000, ReadTimeout: 2000, WriteTimeout: 2000}
	routes := []router.Route{
		{ID: "00000000-0000-0000-0000-000000000001", Paths: []string{"/r"}, ServiceID: "s1"},
		{ID: "00000000-0000-0000-0000-000000000002", Paths: []string{"/pre"}, StripPath: true, ServiceID: "s1"},
		{ID: "00000000-0000-0000-0000-000000000003", Paths: []string{"/nosvc"}},
	}
	rt := &router.Versioned{}
	if _, err := rt.Rebuild(routes, map[string]*router.Service{"s1": s}); err != nil {
		t.Fatal(err)
	}
	trusted, _ := ParseTrustedIPs([]string{"10.0.0.0/8"})
	p := New(rt, Config{KongVersion: "3.9.1", Dial: dial, TrustedIPs: trusted})

	requests := []struct{ name, raw string }{
		{"minimal", "GET /r/plain HTTP/1.1\r\nHost: example.com\r\n\r\n"},
		{"http10", "GET /r/plain HTTP/1.0\r\nHost: example.com\r\n\r\n"},
		{"hop", "GET /r/plain HTTP/1.1\r\nHost: example.com:9999\r\nConnection: keep-alive, X-Hop, Upgrade\r\nX-Hop: secret\r\n" +
			"Keep-Alive: timeout=5\r\nUpgrade: websocket\r\nExpect: foo\r\nTE: trailers, deflate\r\nVia: 1.0 other\r\n" +
			"X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Prefix: /evil\r\nX-Forwarded-Proto: https\r\nX-Real-IP: 1.2.3.4\r\n" +
			"X-Kong-Request-Id: client\r\nUser-Agent: ua\r\nAccept: */*\r\n\r\n"},
		{"lower", "GET /r/plain HTTP/1.1\r\nhost: example.com\r\nconnection: x-hop\r\nx-hop: 1\r\nkeep-alive: 1\r\n" +
			"upgrade: h2c\r\nexpect: foo\r\nte: gzip\r\nvia: 1.0 a\r\nx-forwarded-for: 1.2.3.4\r\nx-forwarded-prefix: /x\r\n" +
			"x-forwarded-host: evil\r\nx-real-ip: 1.1.1.1\r\nx-kong-request-id: client\r\n\r\n"},
		{"empty", "GET /r/plain HTTP/1.1\r\nHost: example.com\r\nConnection:\r\nKeep-Alive:\r\nUpgrade:\r\nExpect:\r\nTE:\r\n" +
			"Via:\r\nX-Forwarded-For:\r\nX-Forwarded-Prefix:\r\nX-Forwarded-Host:\r\n\r\n"},
		{"dup", "GET /r/plain HTTP/1.1\r\nHost: example.com\r\nKeep-Alive: a\r\nKeep-Alive: b\r\nTE: trailers\r\nTE: gzip\r\n" +
			"X-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2.2.2.2\r\nVia: a\r\nVia: b\r\n\r\n"},
		{"close", "GET /r/plain HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"},
		{"close-token", "GET /r/plain HTTP/1.1\r\nHost: example.com\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\n\r\n"},
		{"cookie", "GET /r/plain HTTP/1.1\r\nHost: example.com\r\ncookie: a=b;c=d\r\nKeep-Alive: 1\r\nCookie:  x=y\r\n" +
			"Upgrade: u\r\n\r\n"},
		{"trailer", "POST /r/plain HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n" +
			"Keep-Alive: 1\r\nTE: trailers\r\n\r\n5\r\nhello\r\n0\r\nX-T: v\r\n\r\n"},
		{"trailer-hop", "POST /r/plain HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n" +
			"Trailer: Upgrade, Via\r\n\r\n5\r\nhello\r\n0\r\nUpgrade: u\r\nVia: 1.0 trailer\r\n\r\n"},
		{"body", "POST /r/plain?q=1 HTTP/1.1\r\nHost: example.com\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n" +
			"Expect: 100-continue\r\n\r\nhello"},
		{"prefix", "GET /pre/x?y=1 HTTP/1.1\r\nHost: Example.COM\r\nX-Forwarded-Prefix: /client\r\n\r\n"},
		{"edits", "GET /r/plain HTTP/1.1\r\nHost: example.com\r\nX-Edit: 1\r\nX-Forwarded-For: 9.9.9.9\r\nUpgrade: client\r\n\r\n"},
		{"nosvc", "GET /nosvc HTTP/1.1\r\nHost: example.com\r\nVia: 1.0 c\r\n\r\n"},
		// names in mixed case: found, removed or replaced all the same
		{"mixed", "GET /r/plain HTTP/1.1\r\nHost: example.com\r\n" + mixedHeaders + "\r\n"},
		// with a Cookie header: the names are read from the serialisation
		{"mixed-cookie", "GET /r/plain HTTP/1.1\r\nHost: example.com\r\ncookie: a=b;c=d\r\n" + mixedHeaders +
			"Cookie:  x=y\r\n\r\n"},
		// both spellings: Kong's value is the one under its spelling
		{"both-cases", "GET /r/plain HTTP/1.1\r\nHost: example.com\r\nX-Forwarded-For: 1.1.1.1\r\nx-forwarded-for: 2.2.2.2\r\n" +
			"Via: a\r\nvia: b\r\nTE: gzip\r\nte: trailers\r\nConnection: X-A\r\nconnection: X-B\r\nx-a: 1\r\nX-B: 2\r\n\r\n"},
		{"lower-te", "GET /r/chunked HTTP/1.1\r\nHost: example.com\r\nte: trailers\r\n\r\n"},
		{"mixed-trailer", "POST /r/plain HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\nTrailer: upgrade, X-T\r\n" +
			"keep-alive: 1\r\nconnection: x-t\r\n\r\n5\r\nhello\r\n0\r\nupgrade: u\r\nX-T: v\r\n\r\n"},
		{"noroute", "GET /none HTTP/1.1\r\nHost: example.com\r\nAccept: text/html\r\n\r\n"},
	}
	names := make([]string, 0, len(rawResponses))
	for name := range rawResponses {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		requests = append(requests, struct{ name, raw string }{"resp-" + name,
			"GET /r/" + name + " HTTP/1.1\r\nHost: example.com\r\n\r\n"})
		requests = append(requests, struct{ name, raw string }{"resp-" + name + "-te",
			"GET /r/" + name + " HTTP/1.1\r\nHost: example.com\r\nTE: trailers\r\nX-Edit: 1\r\n\r\n"})
	}

	re := regexp.MustCompile(`(X-Kong-(?:Upstream|Proxy|Response)-Latency: )\d+|(X-Kong-Request-Id: )[0-9a-f]{32}|(?i:(Date: ))[^\r]*`)
	mask := func(s string) string {
		return re.ReplaceAllStringFunc(s, func(m string) string {
			if strings.HasSuffix(m, upstreamDate) {
				return m // the upstream's
			}
			return re.ReplaceAllString(m, "$1$2$3*")
		})
	}
	// Cases with the same result share one entry, listed in the order met.
	var order []string
	cases := map[string][]string{}
	for _, phases := range []struct {
		name string
		ph   Phases
	}{{"nil", nil}, {"nop", NopPhases{}}, {"edits", headerEdits{}}} {
		p.Phases = phases.ph
		for _, mode := range []string{"asis", "normalized"} {
			for _, peer := range []string{"127.0.0.1", "10.1.2.3"} {
				for _, rq := range requests {
					if strings.HasPrefix(rq.name, "resp-") && (mode != "asis" || peer != "127.0.0.1") {
						continue // the response's headers: one request mode is enough
					}
					var req fasthttp.Request
					if mode == "asis" {
						req.Header.DisableNormalizing() // as the proxy's server reads them
					}
					if err := req.Read(bufio.NewReader(strings.NewReader(rq.raw))); err != nil {
						t.Fatalf("%s: %v", rq.name, err)
					}
					var rc fasthttp.RequestCtx
					rc.Init(&req, &net.TCPAddr{IP: net.ParseIP(peer), Port: 5555}, nil)
					p.ServeHTTP(&rc)
					res := fmt.Sprintf(">>> upstream\n%s\n<<< response\n%strailers=%q\n\n", mask(u.last()),
						mask(rc.Response.Header.String()), trailerSection(&rc.Response.Header))
					if cases[res] == nil {
						order = append(order, res)
					}
					cases[res] = append(cases[res], strings.Join([]string{phases.name, mode, peer, rq.name}, " "))
				}
			}
		}
	}
	var out bytes.Buffer
	for _, res := range order {
		for _, c := range cases[res] {
			fmt.Fprintf(&out, "=== %s\n", c)
		}
		out.WriteString(res)
	}
	got := strings.ReplaceAll(out.String(), "\r\n", "\n")
	const golden = "testdata/headers.golden"
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				// the case this line belongs to
				head := ""
				for j := i; j >= 0 && j < len(wl); j-- {
					if strings.HasPrefix(wl[j], "=== ") {
						head = wl[j]
						break
					}
				}
				t.Fatalf("differs from %s at line %d (%s):\n got: %q\nwant: %q", golden, i+1, head, g, w)
			}
		}
	}
}
