package proxy

import (
	"bufio"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// TestCanonicalNames: the names given to SetCanonical and PeekCanonical
// are the ones fasthttp's Set stores, in a header normalising names and in
// one keeping them as sent; requestNames picks the request's form and
// leaves its setting as it was.
func TestCanonicalNames(t *testing.T) {
	for _, name := range [][]byte{hdrAccept, hdrConnection, hdrKeepAlive, hdrExpect, hdrUpgrade, hdrVia, hdrXForwardedFor, hdrXForwardedProto,
		hdrXForwardedHost, hdrXForwardedPort, hdrXForwardedPath, hdrXForwardedPfx, hdrRequestID,
		hdrUpstreamLatency, hdrProxyLatency, hdrResponseLatency, hdrProxy, hdrProxyConnection, hdrUpstreamStatus} {
		var rq fasthttp.RequestHeader
		rq.Set(string(name), "v")
		var rs fasthttp.ResponseHeader
		rs.Set(string(name), "v")
		if string(rq.PeekCanonical(name)) != "v" || string(rs.PeekCanonical(name)) != "v" {
			t.Errorf("%s is not fasthttp's form of the name", name)
		}
	}
	// Date cannot be set on a response (fasthttp drops it), only read:
	// normalised, it is stored as hdrDate.
	var resp fasthttp.Response
	if err := resp.Read(bufio.NewReader(strings.NewReader("HTTP/1.1 200 OK\r\ndate: d\r\nContent-Length: 0\r\n\r\n"))); err != nil ||
		string(resp.Header.PeekCanonical(hdrDate)) != "d" {
		t.Errorf("%s is not fasthttp's form of the name (%v)", hdrDate, err)
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

// TestIsWebSocketUpgrade: Kong's test (the first Upgrade header, its name
// and value in any case, is websocket), on the header as read.
func TestIsWebSocketUpgrade(t *testing.T) {
	for hdr, want := range map[string]bool{
		"Upgrade: websocket\r\nConnection: Upgrade\r\n": true,
		"uPgRaDe: WebSocket\r\n":                        true,
		"X-B: x\r\nUPGRADE:WEBSOCKET\r\n":               true,
		"Upgrade: websocket\r\nupgrade: h2c\r\n":        true, // the first
		"upgrade: h2c\r\nUpgrade: websocket\r\n":        false,
		"Upgrade: h2c\r\nConnection: Upgrade\r\n":       false,
		"Upgrade: websockets\r\n":                       false,
		"X-Upgrade: websocket\r\n":                      false,
		"Upgrades: websocket\r\n":                       false,
		"Connection: Upgrade\r\nX-A: websocket\r\n":     false,
		"X-B: x\r\nX-A: b\r\n":                          false,
		"Cookie: a=b\r\nupgrade: websocket\r\n":         true, // read from the serialisation
	} {
		for _, asSent := range []bool{true, false} {
			h := readRequestHeader(t, "GET / HTTP/1.1\r\nX-First: 1\r\n"+hdr+"Host: h\r\n\r\n", asSent)
			if got := isWebSocketUpgrade(h); got != want {
				t.Errorf("%q (names as sent %v): %v, want %v", hdr, asSent, got, want)
			}
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

// TestNameIndex: each name the proxy looks for is found in any case, and
// only it (names of the same length, near misses).
func TestNameIndex(t *testing.T) {
	for i, name := range foldNames {
		for _, k := range []string{name, strings.ToUpper(name), string(respCanon[i]), string(namesNormalized.canon[i]), mixCase(name)} {
			if got := nameIndex([]byte(k)); got != i {
				t.Errorf("nameIndex(%q) = %d, want %d", k, got, i)
			}
		}
		if !strings.EqualFold(string(namesAsSent.canon[i]), name) || !strings.EqualFold(string(namesNormalized.canon[i]), name) {
			t.Errorf("%d: canonical names %q, %q for %q", i, namesAsSent.canon[i], namesNormalized.canon[i], name)
		}
	}
	for _, k := range []string{"", "t", "tf", "vi", "vias", "accept", "Accept-Encoding", "keep_alive", "connectioN ", "x-forwarded-hose",
		"x-forwarded-xxxx", "x-forwarded-pxxx", "x-kong-request-ix", "x-forwarded-prot", "x-real_ip", "x-kong-proxy-latencx",
		"content-length", "x-real-ip\r", "X-Forwarded\rFor", "data", "dates"} {
		if got := nameIndex([]byte(k)); got != -1 {
			t.Errorf("nameIndex(%q) = %d, want -1", k, got)
		}
	}
}

// mixCase upper-cases every other letter of s.
func mixCase(s string) string {
	b := []byte(s)
	for i := 0; i < len(b); i += 2 {
		if 'a' <= b[i] && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

// spellings are the other spellings a scan noted, "index:name".
func (s *headerScan) spellings() []string {
	var out []string
	for _, sp := range s.spells {
		out = append(out, strconv.Itoa(int(sp.index))+":"+string(s.buf[sp.start:sp.end]))
	}
	return out
}

// TestRequestScan: the names found under Kong's spelling and under others
// (each spelling once), which was met first, in a header keeping names as
// sent and in one normalising them; read from the header list or, with a
// Cookie header read or special headers off, from the serialisation; the
// trailer section's names too; the scan leaves the header as it was.
func TestRequestScan(t *testing.T) {
	const mixed = "CONNECTION: x\r\nKeep-alive: 1\r\nexpect: e\r\nUPGRADE: u\r\nte: gzip\r\nVIA: v\r\nx-forwarded-for: 1.2.3.4\r\n" +
		"X-FORWARDED-PROTO: https\r\nx-Forwarded-Host: h\r\nX-Forwarded-port: 1\r\nx-forwarded-path: /p\r\nX-FORWARDED-PREFIX: /x\r\n" +
		"x-real-ip: 1.1.1.1\r\nx-kong-request-id: r\r\nproxy: p\r\nPROXY-CONNECTION: close\r\n"
	const canon = "Connection: x\r\nKeep-Alive: 1\r\nExpect: e\r\nUpgrade: u\r\nTE: gzip\r\nVia: v\r\nX-Forwarded-For: 1.2.3.4\r\n" +
		"X-Forwarded-Proto: https\r\nX-Forwarded-Host: h\r\nX-Forwarded-Port: 1\r\nX-Forwarded-Path: /p\r\nX-Forwarded-Prefix: /x\r\n" +
		"X-Real-IP: 1.1.1.1\r\nX-Kong-Request-Id: r\r\nProxy: p\r\nProxy-Connection: close\r\n"
	all := requestScanned
	mixedSpellings := []string{"0:CONNECTION", "1:Keep-alive", "2:expect", "3:UPGRADE", "4:te", "5:VIA", "6:x-forwarded-for",
		"7:X-FORWARDED-PROTO", "8:x-Forwarded-Host", "9:X-Forwarded-port", "10:x-forwarded-path", "11:X-FORWARDED-PREFIX",
		"12:x-real-ip", "13:x-kong-request-id", "17:proxy", "18:PROXY-CONNECTION"}
	for _, tc := range []struct {
		name             string
		headers          string
		asSent           bool
		canon, odd, odd1 presence
		spellings        []string
	}{
		{"none", "Accept: */*\r\nX-Api-Token: t\r\nUser-Agent: ua\r\nAccept-Encoding: gzip\r\n", true, 0, 0, 0, nil},
		{"canonical", canon, true, all, 0, 0, nil},
		{"canonical normalised", canon, false, all, 0, 0, nil},
		{"mixed", mixed, true, 0, all, all, mixedSpellings},
		{"mixed normalised", mixed, false, all, 0, 0, nil},
		{"mixed with cookies", "cookie: a=b\r\n" + mixed + "Cookie: c=d\r\n", true, 0, all, all, mixedSpellings},
		{"both, canonical first", "Via: a\r\nvia: b\r\nVIA: c\r\nvia: d\r\nX-Real-IP: 1\r\n", true,
			hasVia | hasRealIP, hasVia, 0, []string{"5:via", "5:VIA"}},
		{"both, other first", "TE: x\r\nX-Forwarded-for: 1\r\nX-Forwarded-For: 2\r\nte: y\r\n", true,
			hasTE | hasXFF, hasXFF | hasTE, hasXFF, []string{"6:X-Forwarded-for", "4:te"}},
		{"empty values", "upgrade:\r\nExpect:\r\n", true, hasExpect, hasUpgrade, hasUpgrade, []string{"3:upgrade"}},
		{"close only", "connection: close\r\n", true, hasConnection, 0, 0, nil},
	} {
		h := readRequestHeader(t, "GET / HTTP/1.1\r\nHost: h\r\n"+tc.headers+"\r\n", tc.asSent)
		before := h.String()
		var s headerScan
		s.request(h, requestNames(h))
		if s.canon != tc.canon || s.odd != tc.odd || s.oddFirst != tc.odd1 {
			t.Errorf("%s: canon %016b odd %016b first %016b, want %016b %016b %016b", tc.name, s.canon, s.odd, s.oddFirst,
				tc.canon, tc.odd, tc.odd1)
		}
		if got := s.spellings(); !slices.Equal(got, tc.spellings) {
			t.Errorf("%s: spellings %q, want %q", tc.name, got, tc.spellings)
		}
		if after := h.String(); after != before {
			t.Errorf("%s: the scan changed the header:\n%q\n%q", tc.name, before, after)
		}
	}

	// The trailer section's names.
	var req fasthttp.Request
	req.Header.DisableNormalizing()
	if err := req.Read(bufio.NewReader(strings.NewReader("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n" +
		"Trailer: upgrade, X-T\r\n\r\n1\r\nx\r\n0\r\nupgrade: u\r\nX-T: v\r\n\r\n"))); err != nil {
		t.Fatal(err)
	}
	var s headerScan
	s.request(&req.Header, &namesAsSent)
	if s.odd != hasUpgrade || !slices.Equal(s.spellings(), []string{"3:upgrade"}) {
		t.Errorf("trailers: odd %016b %q", s.odd, s.spellings())
	}

	// Special headers off: a Cookie set stays in the header list, All
	// would move it.
	var h fasthttp.RequestHeader
	h.DisableNormalizing()
	h.DisableSpecialHeader()
	h.Set("cookie", "a=b")
	h.Set("keep-alive", "1")
	before := h.String()
	s.request(&h, &namesAsSent)
	if s.odd != hasKeepAlive || h.String() != before {
		t.Errorf("special headers off: odd %016b, header %q, was %q", s.odd, h.String(), before)
	}
	if !h.DisableSpecialHeader() {
		t.Error("the scan turned special headers on")
	}
	var on fasthttp.RequestHeader
	s.request(&on, &namesNormalized)
	if on.DisableSpecialHeader() {
		t.Error("the scan turned special headers off")
	}
}

// TestHeaderScanValue: a name's value is its first header's whatever the
// case of the name; another's once that one is deleted, nil once all are.
// dropOdd deletes the other spellings of the names asked for only, and
// leaves the normalising setting as it was.
func TestHeaderScanValue(t *testing.T) {
	h := readRequestHeader(t, "GET / HTTP/1.1\r\nHost: h\r\nvia: a\r\nVia: b\r\nVIA: c\r\nX-Forwarded-For: 1\r\n"+
		"x-forwarded-for: 2\r\nkeep-alive: k\r\n\r\n", true)
	var s headerScan
	s.request(h, requestNames(h))
	if v := s.value(h, nVia); string(v) != "a" {
		t.Errorf("Via %q, want a", v)
	}
	if v := s.value(h, nXForwardedFor); string(v) != "1" {
		t.Errorf("X-Forwarded-For %q, want 1", v)
	}
	if v := s.value(h, nUpgrade); v != nil {
		t.Errorf("Upgrade %q", v)
	}
	h.Del("via")
	if v := s.value(h, nVia); string(v) != "b" && string(v) != "c" {
		t.Errorf("via deleted: Via %q", v)
	}
	h.Del("Via")
	h.Del("VIA")
	if v := s.value(h, nVia); v != nil {
		t.Errorf("all deleted: Via %q", v)
	}
	h.SetCanonical(hdrVia, []byte("kong"))
	s.dropOdd(h, hasVia|hasXFF)
	if got, want := fields(h), []string{"Host: h", "Via: kong", "X-Forwarded-For: 1", "keep-alive: k"}; !slices.Equal(got, want) {
		t.Errorf("after dropOdd: %q, want %q", got, want)
	}
	if !h.DisableNormalizing() {
		t.Error("dropOdd changed the setting")
	}

	// Names normalised: a name fasthttp would not normalise (SetCanonical
	// takes it as it is) is deleted as it is.
	h = readRequestHeader(t, "GET / HTTP/1.1\r\nHost: h\r\nvia: a\r\n\r\n", false)
	h.SetCanonical([]byte("via"), []byte("z"))
	s.request(h, requestNames(h))
	if s.canon != hasVia || s.odd != hasVia || s.oddFirst != 0 || string(s.value(h, nVia)) != "a" {
		t.Errorf("normalised: %016b %016b %016b %q", s.canon, s.odd, s.oddFirst, s.value(h, nVia))
	}
	s.dropOdd(h, hasVia)
	if got, want := fields(h), []string{"Host: h", "Via: a"}; !slices.Equal(got, want) {
		t.Errorf("normalised, after dropOdd: %q, want %q", got, want)
	}
	if h.DisableNormalizing() {
		t.Error("dropOdd changed the setting")
	}
}

// fields are h's headers, "name: value", sorted (fasthttp's Del does not
// keep the others' order).
func fields(h *fasthttp.RequestHeader) []string {
	var out []string
	for k, v := range h.All() {
		out = append(out, string(k)+": "+string(v))
	}
	slices.Sort(out)
	return out
}

// TestResponseScan: the response's names, whatever their case, its
// trailer section's, and whether trailers are announced.
func TestResponseScan(t *testing.T) {
	read := func(raw string) *fasthttp.ResponseHeader {
		var resp fasthttp.Response
		resp.Header.DisableNormalizing()
		if err := resp.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
			t.Fatal(err)
		}
		return &resp.Header
	}
	for _, tc := range []struct {
		name, headers     string
		canon, odd, multi presence
		trailers          bool
	}{
		{"none", "Content-Length: 0\r\nX-A: 1\r\nExpect: e\r\nTE: t\r\nX-Forwarded-For: 1\r\n", 0, 0, 0, false},
		{"canonical", "Content-Length: 0\r\nConnection: x\r\nKeep-Alive: 1\r\nUpgrade: u\r\nVia: v\r\nX-Kong-Request-Id: r\r\n" +
			"X-Kong-Upstream-Latency: 1\r\nX-Kong-Proxy-Latency: 2\r\nDate: d\r\n", responseScanned, 0, 0, false},
		{"mixed", "Content-Length: 0\r\nconnection: x\r\nKEEP-ALIVE: 1\r\nupgrade: u\r\nvia: v\r\nx-kong-request-id: r\r\n" +
			"x-kong-upstream-latency: 1\r\nX-KONG-PROXY-LATENCY: 2\r\ndate: d\r\n", 0, responseScanned, 0, false},
		{"close", "Content-Length: 0\r\nconnection: close\r\n", hasConnection, 0, 0, false},
		{"trailers", "Transfer-Encoding: chunked\r\nTrailer: upgrade\r\n\r\n0\r\nupgrade: 1\r\n", 0, hasUpgrade, 0, true},
		{"repeated", "Content-Length: 0\r\nVia: a\r\nvia: b\r\nConnection: x\r\nConnection: y\r\nDate: d\r\nUpgrade: u\r\n",
			hasVia | hasConnection | hasDate | hasUpgrade, hasVia, hasVia | hasConnection, false},
	} {
		h := read("HTTP/1.1 200 OK\r\n" + tc.headers + "\r\n")
		var s headerScan
		s.response(h)
		if s.canon != tc.canon || s.odd != tc.odd || s.multi != tc.multi || s.trailers != tc.trailers || !s.resp {
			t.Errorf("%s: canon %017b odd %017b multi %017b trailers %v, want %017b %017b %017b %v", tc.name, s.canon, s.odd,
				s.multi, s.trailers, tc.canon, tc.odd, tc.multi, tc.trailers)
		}
	}
}

// TestResponseJoined: a response header's lines under one name, whatever
// its case, joined as nginx's $upstream_http_<name> joins them; a single
// line as it is; none nil.
func TestResponseJoined(t *testing.T) {
	var resp fasthttp.Response
	resp.Header.DisableNormalizing()
	raw := "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nVia: 1.1 a\r\nX-Other: o\r\nvia: 1.1 b\r\nVIA: 1.1 c\r\n" +
		"Connection: X-A\r\nKeep-Alive: 1\r\n\r\n"
	if err := resp.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		t.Fatal(err)
	}
	var s headerScan
	s.response(&resp.Header)
	for i, want := range map[int]string{nVia: "1.1 a, 1.1 b, 1.1 c", nConnection: "X-A", nKeepAlive: "1"} {
		if got := s.joined(&resp.Header, i); string(got) != want {
			t.Errorf("%s: %q, want %q", foldNames[i], got, want)
		}
	}
	if got := s.joined(&resp.Header, nUpgrade); got != nil {
		t.Errorf("upgrade: %q", got)
	}
}

func TestForwardedRead(t *testing.T) {
	for _, cookie := range []string{"", "Cookie: a=b\r\n"} {
		for _, trusted := range []bool{true, false} {
			h := readRequestHeader(t, "GET / HTTP/1.1\r\nHost: h\r\n"+cookie+"x-forwarded-proto: https\r\nX-Forwarded-Proto: http\r\n"+
				"X-FORWARDED-HOST: fh\r\nx-forwarded-port: 8\r\nX-Forwarded-Path: /p\r\nx-Forwarded-prefix: /x\r\nX-Client: 1.2.3.4\r\n"+
				"x-client: 5.6.7.8\r\nvia: 1.0 a\r\nVia: 1.0 b\r\nX-Forwarded-For: 9.9.9.9\r\nx-forwarded-for: 8.8.8.8\r\n\r\n", true)
			var f forwarded
			f.read(h, "x-client", trusted)
			h.Reset()
			h.Set("X-Filler", strings.Repeat("z", 200))
			want := []string{fwdProto: "https", fwdHost: "fh", fwdPort: "8", fwdPath: "/p", fwdPrefix: "/x", fwdRealIP: "1.2.3.4",
				fwdFor: "9.9.9.9", fwdVia: "1.0 a"}
			for j, want := range want {
				if !trusted && j != fwdFor && j != fwdVia {
					want = ""
				}
				if got := f.get(j); string(got) != want {
					t.Errorf("cookie %q trusted %v: %d = %q, want %q", cookie, trusted, j, got, want)
				}
			}
		}
	}
	var f forwarded
	f.read(readRequestHeader(t, "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-Host:\r\n\r\n", true), "x-real-ip", true)
	if f.get(fwdProto) != nil || f.get(fwdRealIP) != nil || len(f.get(fwdHost)) != 0 || !f.set[fwdHost] || f.get(fwdVia) != nil {
		t.Errorf("absent and empty: %q %q %q", f.get(fwdProto), f.get(fwdRealIP), f.get(fwdHost))
	}
}

// TestDateInternals: the proxy reaches fasthttp's ResponseHeader
// noDefaultDate (date.go); a fasthttp that renames or retypes it fails
// here rather than replacing upstreams' Date unnoticed.
func TestDateInternals(t *testing.T) {
	if err := DateInternals(); err != nil {
		t.Fatal(err)
	}
}
