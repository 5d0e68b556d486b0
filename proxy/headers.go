package proxy

import (
	"bytes"
	"unsafe"

	"github.com/valyala/fasthttp"
)

// Header names as fasthttp stores them whether it normalises names or not
// (each is its own normalised form): fasthttp's SetCanonical and
// PeekCanonical take them as they are, where Set, Peek and Del with a
// string name copy it and check and normalise every byte at each call.
// TestCanonicalNames checks them.
var (
	hdrAccept          = []byte("Accept")
	hdrConnection      = []byte("Connection")
	hdrKeepAlive       = []byte("Keep-Alive")
	hdrExpect          = []byte("Expect")
	hdrUpgrade         = []byte("Upgrade")
	hdrVia             = []byte("Via")
	hdrXForwardedFor   = []byte("X-Forwarded-For")
	hdrXForwardedProto = []byte("X-Forwarded-Proto")
	hdrXForwardedHost  = []byte("X-Forwarded-Host")
	hdrXForwardedPort  = []byte("X-Forwarded-Port")
	hdrXForwardedPath  = []byte("X-Forwarded-Path")
	hdrXForwardedPfx   = []byte("X-Forwarded-Prefix")
	hdrRequestID       = []byte("X-Kong-Request-Id")
	hdrUpstreamLatency = []byte("X-Kong-Upstream-Latency")
	hdrProxyLatency    = []byte("X-Kong-Proxy-Latency")
	hdrResponseLatency = []byte("X-Kong-Response-Latency")
	hdrUpstreamStatus  = []byte("X-Kong-Upstream-Status")
	hdrDate            = []byte("Date")
	hdrProxy           = []byte("Proxy")
	hdrProxyConnection = []byte("Proxy-Connection")

	valTrailers  = []byte("trailers")
	valWebSocket = []byte("websocket")
	// Kong's upstream_connection for a WebSocket upgrade, and the
	// Connection nginx answers a 101 with
	valKeepAliveUpgrade = []byte("keep-alive, Upgrade")
	valUpgrade          = []byte("upgrade")
)

// reqNames are the request header names normalising changes ("TE" is
// stored "Te", "X-Real-IP" "X-Real-Ip"), in the form a request header
// stores them: as written when it keeps names as sent (the proxy's
// server), else normalised; canon is every name the proxy looks for
// (foldNames) in that form.
type reqNames struct {
	te, realIP []byte
	canon      *[numNames][]byte
}

var (
	namesAsSent     = reqNames{te: []byte("TE"), realIP: []byte("X-Real-IP"), canon: canonNames([]byte("TE"), []byte("X-Real-IP"))}
	namesNormalized = reqNames{te: []byte("Te"), realIP: []byte("X-Real-Ip"), canon: canonNames([]byte("Te"), []byte("X-Real-Ip"))}
	// respCanon: a response holds none of the names normalising changes.
	respCanon = namesAsSent.canon
)

// requestNames is h's form of the names: fasthttp has no getter for the
// setting, DisableNormalizing returns the previous one (restored here).
func requestNames(h *fasthttp.RequestHeader) *reqNames {
	if h.DisableNormalizing() {
		return &namesAsSent
	}
	h.EnableNormalizing()
	return &namesNormalized
}

// s2b views s as bytes without copying, for fasthttp calls that only read
// their argument (SetCanonical copies the value).
func s2b(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// The names the proxy sets, deletes or reads in a header, whatever their
// case: nginx (and so Kong) compares header names ignoring case, where
// fasthttp, keeping names as sent, compares them exactly. A name is found
// once per header in one pass over its names (headerScan).
const (
	nConnection = iota
	nKeepAlive
	nExpect
	nUpgrade
	nTE
	nVia
	nXForwardedFor
	nXForwardedProto
	nXForwardedHost
	nXForwardedPort
	nXForwardedPath
	nXForwardedPrefix
	nRealIP
	nRequestID
	nUpstreamLatency
	nProxyLatency
	nDate
	nProxy
	nProxyConnection

	numNames
)

// foldNames are the names in lower case, by index.
var foldNames = [numNames]string{
	nConnection:       "connection",
	nKeepAlive:        "keep-alive",
	nExpect:           "expect",
	nUpgrade:          "upgrade",
	nTE:               "te",
	nVia:              "via",
	nXForwardedFor:    "x-forwarded-for",
	nXForwardedProto:  "x-forwarded-proto",
	nXForwardedHost:   "x-forwarded-host",
	nXForwardedPort:   "x-forwarded-port",
	nXForwardedPath:   "x-forwarded-path",
	nXForwardedPrefix: "x-forwarded-prefix",
	nRealIP:           "x-real-ip",
	nRequestID:        "x-kong-request-id",
	nUpstreamLatency:  "x-kong-upstream-latency",
	nProxyLatency:     "x-kong-proxy-latency",
	nDate:             "date",
	nProxy:            "proxy",
	nProxyConnection:  "proxy-connection",
}

// canonNames is every name as Kong writes it, TE and X-Real-IP as given.
func canonNames(te, realIP []byte) *[numNames][]byte {
	return &[numNames][]byte{
		nConnection:       hdrConnection,
		nKeepAlive:        hdrKeepAlive,
		nExpect:           hdrExpect,
		nUpgrade:          hdrUpgrade,
		nTE:               te,
		nVia:              hdrVia,
		nXForwardedFor:    hdrXForwardedFor,
		nXForwardedProto:  hdrXForwardedProto,
		nXForwardedHost:   hdrXForwardedHost,
		nXForwardedPort:   hdrXForwardedPort,
		nXForwardedPath:   hdrXForwardedPath,
		nXForwardedPrefix: hdrXForwardedPfx,
		nRealIP:           realIP,
		nRequestID:        hdrRequestID,
		nUpstreamLatency:  hdrUpstreamLatency,
		nProxyLatency:     hdrProxyLatency,
		nDate:             hdrDate,
		nProxy:            hdrProxy,
		nProxyConnection:  hdrProxyConnection,
	}
}

// nameIndex is the index of k among foldNames (its case ignored), or -1:
// its length picks the one candidate (two: a letter tells them apart).
func nameIndex(k []byte) int {
	var i int
	switch len(k) {
	case 2:
		i = nTE
	case 3:
		i = nVia
	case 4:
		i = nDate
	case 5:
		i = nProxy
	case 6:
		i = nExpect
	case 7:
		i = nUpgrade
	case 9:
		i = nRealIP
	case 10: // connection, keep-alive
		i = nConnection
		if k[0]|0x20 == 'k' {
			i = nKeepAlive
		}
	case 15:
		i = nXForwardedFor
	case 16: // x-forwarded-host, -port, -path, proxy-connection
		switch k[12] | 0x20 {
		case 'h':
			i = nXForwardedHost
		case 't':
			i = nProxyConnection
		case 'p':
			i = nXForwardedPort
			if k[13]|0x20 == 'a' {
				i = nXForwardedPath
			}
		default:
			return -1
		}
	case 17: // x-forwarded-proto, x-kong-request-id
		i = nXForwardedProto
		if k[2]|0x20 == 'k' {
			i = nRequestID
		}
	case 18:
		i = nXForwardedPrefix
	case 20:
		i = nProxyLatency
	case 23:
		i = nUpstreamLatency
	default:
		return -1
	}
	if !equalFold(k, s2b(foldNames[i])) {
		return -1
	}
	return i
}

// presence is a set of names (bit 1<<index).
type presence uint32

func bit(i int) presence { return 1 << i }

const (
	hasConnection = 1 << nConnection
	hasKeepAlive  = 1 << nKeepAlive
	hasExpect     = 1 << nExpect
	hasUpgrade    = 1 << nUpgrade
	hasTE         = 1 << nTE
	hasVia        = 1 << nVia
	hasXFF        = 1 << nXForwardedFor
	hasXFProto    = 1 << nXForwardedProto
	hasXFHost     = 1 << nXForwardedHost
	hasXFPort     = 1 << nXForwardedPort
	hasXFPath     = 1 << nXForwardedPath
	hasXFPrefix   = 1 << nXForwardedPrefix
	hasRealIP     = 1 << nRealIP
	hasRequestID  = 1 << nRequestID
	hasUpLatency  = 1 << nUpstreamLatency
	hasPxLatency  = 1 << nProxyLatency
	hasDate       = 1 << nDate
	hasProxy      = 1 << nProxy
	hasProxyConn  = 1 << nProxyConnection

	// the names looked for in a request (that the proxy deletes, replaces
	// or reads) and in a response
	requestScanned presence = hasConnection | hasKeepAlive | hasExpect | hasUpgrade | hasTE | hasVia | hasXFF | hasXFProto | hasXFHost | hasXFPort | hasXFPath | hasXFPrefix | hasRealIP | hasRequestID |
		hasProxy | hasProxyConn
	responseScanned presence = hasConnection | hasKeepAlive | hasUpgrade | hasVia | hasRequestID | hasUpLatency | hasPxLatency |
		hasDate
)

// headerScan is what one pass over a header's names found of the names it
// looks for: those present as Kong writes them (canon: fasthttp finds
// them by that name) and those present spelled otherwise (odd), each such
// spelling copied (found again, or deleted, by it exactly), and those met
// more than once in any spelling (multi). A pass leaves the header as it
// was.
type headerScan struct {
	canon, odd presence
	oddFirst   presence   // the names met first under another spelling
	multi      presence   // the names met more than once
	resp       bool       // the pass was over a response (response)
	trailers   bool       // a response's: trailers announced
	buf        []byte     // the spellings
	spells     []spelling // odd spellings first, then a token pass's
	join       []byte     // joined's result
	tbl        *[numNames][]byte
}

// spelling is buf[start:end], a name as a header holds it; index is its
// foldNames index (-1: a Connection token's).
type spelling struct {
	start, end int32
	index      int32
}

func (s *headerScan) reset(tbl *[numNames][]byte) {
	s.canon, s.odd, s.oddFirst, s.multi, s.tbl, s.trailers, s.resp = 0, 0, 0, 0, tbl, false, false
	s.buf, s.spells = s.buf[:0], s.spells[:0]
}

// add notes k, a header's name, if it is one of want.
func (s *headerScan) add(k []byte, want presence) {
	i := nameIndex(k)
	if i < 0 || want&bit(i) == 0 {
		return
	}
	if (s.canon|s.odd)&bit(i) != 0 {
		s.multi |= bit(i)
	}
	if string(k) == string(s.tbl[i]) {
		s.canon |= bit(i)
		return
	}
	if (s.canon|s.odd)&bit(i) == 0 {
		s.oddFirst |= bit(i)
	}
	s.odd |= bit(i)
	s.addSpelling(k, i)
}

// addSpelling copies k unless the same spelling is noted for index.
func (s *headerScan) addSpelling(k []byte, index int) {
	for _, sp := range s.spells {
		if int(sp.index) == index && string(s.buf[sp.start:sp.end]) == string(k) {
			return
		}
	}
	start := len(s.buf)
	s.buf = append(s.buf, k...)
	s.spells = append(s.spells, spelling{int32(start), int32(len(s.buf)), int32(index)})
}

// request scans h (after the access phase: what goes upstream).
func (s *headerScan) request(h *fasthttp.RequestHeader, n *reqNames) {
	s.reset(n.canon)
	requestFields(h, true, func(k, _ []byte) { s.add(k, requestScanned) })
}

// response scans h (the upstream's response).
func (s *headerScan) response(h *fasthttp.ResponseHeader) {
	s.reset(respCanon)
	s.resp = true
	for k := range h.All() {
		s.add(k, responseScanned)
	}
	for t := range h.Trailers() {
		s.trailers = true
		s.add(t, responseScanned)
	}
}

// found is the names present in any spelling.
func (s *headerScan) found() presence { return s.canon | s.odd }

// value is the value of name i's first header (as Kong's get_header: the
// first whatever the case of its name; of those spelled alike, the first
// fasthttp finds), nil when absent (deleted since the scan). It is h's
// own, valid until h changes.
func (s *headerScan) value(h peekDeleter, i int) []byte {
	if s.canon&^s.oddFirst&bit(i) != 0 {
		if v := h.PeekCanonical(s.tbl[i]); v != nil {
			return v
		}
	}
	if s.odd&bit(i) != 0 {
		for _, sp := range s.spells {
			if int(sp.index) == i {
				if v := h.PeekCanonical(s.buf[sp.start:sp.end]); v != nil {
					return v
				}
			}
		}
	}
	if s.canon&bit(i) != 0 {
		return h.PeekCanonical(s.tbl[i])
	}
	return nil
}

// joined is the values of every field of h named i (whatever the case of
// its name), joined with ", " in their order: nginx's $upstream_http_<name>
// (since nginx 1.23 a variable of a header sent more than once joins its
// lines so), which Kong's header_filter reads for Connection and Via. It is
// s's own, valid until the next call; nil when there is none.
func (s *headerScan) joined(h *fasthttp.ResponseHeader, i int) []byte {
	if s.multi&bit(i) == 0 {
		return s.value(h, i)
	}
	b := s.join[:0]
	n := 0
	for k, v := range h.All() {
		if nameIndex(k) == i {
			if n > 0 {
				b = append(b, ", "...)
			}
			b = append(b, v...)
			n++
		}
	}
	s.join = b
	if n == 0 {
		return nil
	}
	return b
}

// peekDeleter is a request or response header.
type peekDeleter interface {
	PeekCanonical(key []byte) []byte
	DelBytes(key []byte)
	DisableNormalizing() bool
	EnableNormalizing() bool
}

// dropOdd deletes from h the other spellings of the names in which (Kong
// writes its own under its spelling, or none).
func (s *headerScan) dropOdd(h peekDeleter, which presence) {
	if s.odd&which == 0 {
		return
	}
	asSent := h.DisableNormalizing() // DelBytes then deletes the name as it is
	for _, sp := range s.spells {
		if sp.index >= 0 && which&bit(int(sp.index)) != 0 {
			h.DelBytes(s.buf[sp.start:sp.end])
		}
	}
	if !asSent {
		h.EnableNormalizing()
	}
	s.odd &^= which
}

// hopTokens reports whether the Connection value conn names headers to
// delete (tokens other than close, upgrade, keep-alive).
func hopTokens(conn []byte) bool {
	named := false
	forEachToken(conn, func(t []byte) {
		if !tokenIs(t, "close") && !tokenIs(t, "upgrade") && !tokenIs(t, "keep-alive") {
			named = true
		}
	})
	return named
}

// isHopToken is whether k, a header name, is one of conn's tokens naming a
// header to delete.
func isHopToken(k, conn []byte) bool {
	found := false
	forEachToken(conn, func(t []byte) {
		if !found && equalFold(k, t) && !tokenIs(t, "close") && !tokenIs(t, "upgrade") && !tokenIs(t, "keep-alive") {
			found = true
		}
	})
	return found
}

// delSpellings deletes the spellings noted from mark on (a token pass),
// then forgets them.
func (s *headerScan) delSpellings(h peekDeleter, mark int, bufMark int) {
	asSent := h.DisableNormalizing()
	for _, sp := range s.spells[mark:] {
		h.DelBytes(s.buf[sp.start:sp.end])
	}
	if !asSent {
		h.EnableNormalizing()
	}
	s.spells, s.buf = s.spells[:mark], s.buf[:bufMark]
}

// delRequestTokens deletes the request headers conn (h's Connection value)
// names, whatever their case. conn stays valid: deleting changes no byte.
func (s *headerScan) delRequestTokens(h *fasthttp.RequestHeader, conn []byte) {
	if !hopTokens(conn) {
		return
	}
	mark, bufMark := len(s.spells), len(s.buf)
	requestFields(h, true, func(k, _ []byte) {
		if isHopToken(k, conn) {
			s.addSpelling(k, -1)
		}
	})
	s.delSpellings(h, mark, bufMark)
}

// delResponseTokens is delRequestTokens for a response.
func (s *headerScan) delResponseTokens(h *fasthttp.ResponseHeader, conn []byte) {
	if !hopTokens(conn) {
		return
	}
	mark, bufMark := len(s.spells), len(s.buf)
	for k := range h.All() {
		if isHopToken(k, conn) {
			s.addSpelling(k, -1)
		}
	}
	for t := range h.Trailers() {
		if isHopToken(t, conn) {
			s.addSpelling(t, -1)
		}
	}
	s.delSpellings(h, mark, bufMark)
}

// requestFields calls fn with each header h holds (name and value, valid
// during the call), then, if trailers, with each name of the trailer
// section (value nil), leaving h as it is. fasthttp's All moves the
// Cookie headers it has not parsed yet out of the header list (they would
// then go upstream re-serialised, after the others). A Cookie header gets
// there unparsed only when it is read (set, it is parsed at once): when
// the header block as read holds "cookie" in any case, or special headers
// are off (a Cookie set is then not parsed either), the fields are read
// from h's serialisation instead (fasthttp's Header, in h's own buffer:
// valid until h's next Set or Header). A request announcing trailers costs
// an allocation either way (fasthttp joins the Trailer names).
func requestFields(h *fasthttp.RequestHeader, trailers bool, fn func(k, v []byte)) {
	special := !h.DisableSpecialHeader()
	if special {
		h.EnableSpecialHeader()
	}
	if special && !mayHoldCookie(h.RawHeaders()) {
		for k, v := range h.All() {
			fn(k, v)
		}
	} else {
		b := h.Header()
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:] // the request line
		}
		for {
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				break
			}
			line := b[:i]
			b = b[i+1:]
			if c := bytes.IndexByte(line, ':'); c > 0 {
				v := bytes.TrimSuffix(line[c+1:], []byte{'\r'})
				if len(v) > 0 && v[0] == ' ' {
					v = v[1:]
				}
				fn(line[:c], v)
			}
		}
	}
	if !trailers {
		return
	}
	for t := range h.Trailers() {
		fn(t, nil)
	}
}

// forwarded holds the client's X-Forwarded-For and Via, and a trusted
// client's X-Forwarded-Proto, -Host, -Port, -Path, -Prefix and
// real_ip_header values (the first of each name, whatever its case),
// copied: Kong reads them in access.before, before the access plugins run
// (handler.lua sets $upstream_x_forwarded_* and $upstream_via there, which
// proxy_set_header sends whatever the plugins did to those headers), and
// they are used after the access phase.
type forwarded struct {
	buf  []byte
	span [numForwarded][2]int32
	set  [numForwarded]bool
}

const (
	fwdProto = iota
	fwdHost
	fwdPort
	fwdPath
	fwdPrefix
	fwdRealIP
	fwdFor
	fwdVia

	numForwarded
)

// read fills f from h; realIPHdr is real_ip_header in lower case. The
// values only a trusted client's are believed for are read when trusted.
func (f *forwarded) read(h *fasthttp.RequestHeader, realIPHdr string, trusted bool) {
	f.buf = f.buf[:0]
	f.set = [numForwarded]bool{}
	requestFields(h, false, func(k, v []byte) {
		j := -1
		switch nameIndex(k) {
		case nXForwardedFor:
			j = fwdFor
		case nVia:
			j = fwdVia
		case nXForwardedProto:
			j = fwdProto
		case nXForwardedHost:
			j = fwdHost
		case nXForwardedPort:
			j = fwdPort
		case nXForwardedPath:
			j = fwdPath
		case nXForwardedPrefix:
			j = fwdPrefix
		}
		if j >= 0 && !f.set[j] && (trusted || j == fwdFor || j == fwdVia) {
			f.keep(j, v)
		}
		if trusted && !f.set[fwdRealIP] && equalFold(k, s2b(realIPHdr)) {
			f.keep(fwdRealIP, v)
		}
	})
}

func (f *forwarded) keep(j int, v []byte) {
	start := len(f.buf)
	f.buf = append(f.buf, v...)
	f.span[j] = [2]int32{int32(start), int32(len(f.buf))}
	f.set[j] = true
}

// get is the value read for j (nil when absent; valid until the next read).
func (f *forwarded) get(j int) []byte {
	if !f.set[j] {
		return nil
	}
	return f.buf[f.span[j][0]:f.span[j][1]:f.span[j][1]]
}

// mayHoldCookie reports whether raw, a header block, holds "cookie" in any
// case, anywhere (found from its 'k').
func mayHoldCookie(raw []byte) bool {
	for _, k := range [...]byte{'k', 'K'} {
		for off := 0; ; {
			i := bytes.IndexByte(raw[off:], k)
			if i < 0 {
				break
			}
			i += off // "cookie"[3]
			if i >= 3 && i+3 <= len(raw) && equalFold(raw[i-3:i+3], s2b("cookie")) {
				return true
			}
			off = i + 1
		}
	}
	return false
}

// isWebSocketUpgrade is Kong's test for a WebSocket upgrade (handler.lua
// access.before): the first Upgrade header, whatever the case of its name,
// is "websocket" in any case. Connection is not looked at (Kong does not).
// The header block as read is looked at first (a line starting with the
// name), so that a request without one costs no pass over its headers.
func isWebSocketUpgrade(h *fasthttp.RequestHeader) bool {
	if !mayHoldLine(h.RawHeaders(), "upgrade") {
		return false
	}
	found, ws := false, false
	requestFields(h, false, func(k, v []byte) {
		if !found && nameIndex(k) == nUpgrade {
			found, ws = true, equalFold(v, valWebSocket)
		}
	})
	return ws
}

// mayHoldLine reports whether a line of raw, a header block, starts with
// name (in lower case) in any case and a colon (fasthttp reads no space
// before it).
func mayHoldLine(raw []byte, name string) bool {
	for len(raw) > len(name) {
		if raw[0]|0x20 == name[0] && raw[len(name)] == ':' && equalFold(raw[:len(name)], s2b(name)) {
			return true
		}
		i := bytes.IndexByte(raw, '\n')
		if i < 0 {
			break
		}
		raw = raw[i+1:]
	}
	return false
}

// equalFold compares a and b ignoring the case of ASCII letters.
func equalFold(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
