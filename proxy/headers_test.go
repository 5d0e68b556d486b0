package proxy

import (
	"bufio"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// TestCanonicalNames: the names given to SetCanonical and PeekCanonical
// are the ones fasthttp's Set stores, in a header normalising names and in
// one keeping them as sent; requestNames picks the request's form and
// leaves its setting as it was.
func TestCanonicalNames(t *testing.T) {
	for _, name := range [][]byte{hdrAccept, hdrConnection, hdrVia, hdrXForwardedFor, hdrXForwardedProto,
		hdrXForwardedHost, hdrXForwardedPort, hdrXForwardedPath, hdrXForwardedPfx, hdrRequestID,
		hdrUpstreamLatency, hdrProxyLatency, hdrResponseLatency} {
		var rq fasthttp.RequestHeader
		rq.Set(string(name), "v")
		var rs fasthttp.ResponseHeader
		rs.Set(string(name), "v")
		if string(rq.PeekCanonical(name)) != "v" || string(rs.PeekCanonical(name)) != "v" {
			t.Errorf("%s is not fasthttp's form of the name", name)
		}
	}
	for _, asSent := range []bool{false, true} {
		var h fasthttp.RequestHeader
		if asSent {
			h.DisableNormalizing()
		}
		n := requestNames(&h)
		if want := map[bool]*reqNames{false: &namesNormalized, true: &namesAsSent}[asSent]; n != want {
			t.Errorf("names as sent %v: got %q", asSent, n.te)
		}
		h.Set("TE", "te")
		h.Set("X-Real-IP", "ip")
		if string(h.PeekCanonical(n.te)) != "te" || string(h.PeekCanonical(n.realIP)) != "ip" {
			t.Errorf("names as sent %v: %q and %q are not the names Set stored", asSent, n.te, n.realIP)
		}
		if requestNames(&h) != n {
			t.Errorf("names as sent %v: requestNames changed the setting", asSent)
		}
	}
}

func TestMayHoldCookie(t *testing.T) {
	for raw, want := range map[string]bool{
		"":                                false,
		"Host: x\r\nAccept: */*\r\n":      false,
		"Cookie: a=b\r\n":                 true,
		"Host: x\r\ncOoKiE: a=b\r\n":      true,
		"X-Token: my-cookie-jar\r\n":      true, // anywhere: a superset
		"cookie":                          true,
		"COOKIE":                          true,
		"ookie: a\r\n":                    false,
		"cooki: a\r\nkkk":                 false,
		"X-Kong: k\r\nX-Back: cookiX\r\n": false,
		"kie cook":                        false,
		"c00kie":                          false,
		"X-A: coo\r\nkie: 1\r\n":          false,
	} {
		if got := mayHoldCookie([]byte(raw)); got != want {
			t.Errorf("mayHoldCookie(%q) = %v, want %v", raw, got, want)
		}
	}
}

func readRequestHeader(t *testing.T, raw string, asSent bool) *fasthttp.RequestHeader {
	t.Helper()
	var req fasthttp.Request
	if asSent {
		req.Header.DisableNormalizing()
	}
	if err := req.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		t.Fatal(err)
	}
	return &req.Header
}

// TestRequestPresence: the names found are those Del would delete (in
// the header's form), and the pass leaves the header as it was; all are
// reported when the pass could change the header (a Cookie header read,
// special headers off) or not see all of it (announced trailers).
func TestRequestPresence(t *testing.T) {
	const all = "Connection: x\r\nKeep-Alive: 1\r\nExpect: e\r\nUpgrade: u\r\nTE: gzip\r\nX-Forwarded-Prefix: /p\r\n"
	for _, tc := range []struct {
		name    string
		headers string
		asSent  bool
		want    presence
	}{
		{"none", "Accept: */*\r\nX-Api-Token: t\r\nUser-Agent: ua\r\n", false, 0},
		{"all", all, false, hasConnection | hasKeepAlive | hasExpect | hasUpgrade | hasTE | hasXForwardedPrefix},
		{"all as sent", all, true, hasConnection | hasKeepAlive | hasExpect | hasUpgrade | hasTE | hasXForwardedPrefix},
		{"some", "Keep-Alive: 1\r\nTE: trailers\r\nX-Forwarded-For: 1.2.3.4\r\n", false, hasKeepAlive | hasTE},
		{"empty values", "Upgrade:\r\nExpect:\r\n", false, hasExpect | hasUpgrade},
		// names as sent: Del compares them as they are
		{"lower as sent", "keep-alive: 1\r\nupgrade: u\r\nte: gzip\r\nx-forwarded-prefix: /p\r\n", true, 0},
		{"lower normalised", "keep-alive: 1\r\nupgrade: u\r\nte: gzip\r\nx-forwarded-prefix: /p\r\n", false,
			hasKeepAlive | hasUpgrade | hasTE | hasXForwardedPrefix},
		{"cookie", "Cookie: a=b;c=d\r\nKeep-Alive: 1\r\n", false, hasAll},
		{"cookie as sent", "cookie: a=b\r\n", true, hasAll},
	} {
		h := readRequestHeader(t, "GET / HTTP/1.1\r\nHost: h\r\n"+tc.headers+"\r\n", tc.asSent)
		before := h.String()
		if got := requestPresence(h, requestNames(h)); got != tc.want {
			t.Errorf("%s: %07b, want %07b", tc.name, got, tc.want)
		}
		if after := h.String(); after != before {
			t.Errorf("%s: the pass changed the header:\n%q\n%q", tc.name, before, after)
		}
	}

	// Announced trailers: the trailer section holds Upgrade.
	var req fasthttp.Request
	if err := req.Read(bufio.NewReader(strings.NewReader("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n" +
		"Trailer: Upgrade\r\n\r\n1\r\nx\r\n0\r\nUpgrade: u\r\n\r\n"))); err != nil {
		t.Fatal(err)
	}
	if got := requestPresence(&req.Header, &namesNormalized); got != hasAll {
		t.Errorf("announced trailers: %07b", got)
	}

	// Without special headers a Cookie set is not parsed: the pass would.
	var h fasthttp.RequestHeader
	h.DisableSpecialHeader()
	h.Set("Cookie", "a=b")
	if got := requestPresence(&h, &namesNormalized); got != hasAll {
		t.Errorf("special headers off: %07b", got)
	}
	if !h.DisableSpecialHeader() {
		t.Error("requestPresence turned special headers on")
	}
	var on fasthttp.RequestHeader
	requestPresence(&on, &namesNormalized)
	if on.DisableSpecialHeader() {
		t.Error("requestPresence turned special headers off")
	}
}

func TestResponsePresence(t *testing.T) {
	read := func(raw string) *fasthttp.ResponseHeader {
		var resp fasthttp.Response
		resp.Header.DisableNormalizing()
		if err := resp.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
			t.Fatal(err)
		}
		return &resp.Header
	}
	for _, tc := range []struct {
		name, headers string
		want          presence
	}{
		{"none", "Content-Length: 0\r\nX-A: 1\r\n", 0},
		{"both", "Content-Length: 0\r\nKeep-Alive: 1\r\nUpgrade: u\r\n", hasKeepAlive | hasUpgrade},
		{"empty", "Content-Length: 0\r\nUpgrade:\r\n", hasUpgrade},
		{"lower", "Content-Length: 0\r\nkeep-alive: 1\r\nupgrade: u\r\n", 0},
		{"trailers", "Transfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n0\r\nX-T: 1\r\n", hasAll},
	} {
		h := read("HTTP/1.1 200 OK\r\n" + tc.headers + "\r\n")
		if got := responsePresence(h); got != tc.want {
			t.Errorf("%s: %07b, want %07b", tc.name, got, tc.want)
		}
	}
}
