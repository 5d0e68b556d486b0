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

	valTrailers = []byte("trailers")
)

// reqNames are the request header names normalising changes ("TE" is
// stored "Te", "X-Real-IP" "X-Real-Ip"), in the form a request header
// stores them: as written when it keeps names as sent (the proxy's
// server), else normalised.
type reqNames struct{ te, realIP []byte }

var (
	namesAsSent     = reqNames{te: []byte("TE"), realIP: []byte("X-Real-IP")}
	namesNormalized = reqNames{te: []byte("Te"), realIP: []byte("X-Real-Ip")}
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

// presence is which of the headers the proxy deletes a header holds (a
// name exactly as Del compares it, after normalising it: the header's own
// form): a Del of an absent one, which costs the copy and normalisation
// of its name, is skipped.
type presence uint8

const (
	hasConnection presence = 1 << iota
	hasKeepAlive
	hasExpect
	hasUpgrade
	hasTE
	hasXForwardedPrefix
	hasTrailer

	hasAll presence = 1<<iota - 1
)

// requestPresence tells which of Connection, Keep-Alive, Expect, Upgrade,
// TE and X-Forwarded-Prefix h holds, in one pass over its headers; hasAll
// (all to be deleted, as before the pass) when the pass could change h or
// miss part of it:
//   - fasthttp's All moves the Cookie headers it has not parsed yet out of
//     the header list (they would then go upstream re-serialised, after
//     the others). A Cookie header gets there unparsed only when it is
//     read (set, it is parsed at once): the header block as read holding
//     "cookie" in any case makes the pass be skipped. Without special
//     headers (none of the proxy's) a set Cookie is not parsed either.
//   - All does not show the trailer section, which fasthttp only fills
//     for announced trailer names.
func requestPresence(h *fasthttp.RequestHeader, n *reqNames) presence {
	for range h.Trailers() {
		return hasAll
	}
	if h.DisableSpecialHeader() {
		return hasAll
	}
	h.EnableSpecialHeader()
	if mayHoldCookie(h.RawHeaders()) {
		return hasAll
	}
	var has presence
	for k := range h.All() {
		switch len(k) {
		case len("Connection"): // and Keep-Alive
			if bytes.Equal(k, hdrConnection) {
				has |= hasConnection
			} else if string(k) == "Keep-Alive" {
				has |= hasKeepAlive
			}
		case len("Expect"):
			if string(k) == "Expect" {
				has |= hasExpect
			}
		case len("Upgrade"):
			if string(k) == "Upgrade" {
				has |= hasUpgrade
			}
		case len(n.te):
			if bytes.Equal(k, n.te) {
				has |= hasTE
			}
		case len(hdrXForwardedPfx):
			if bytes.Equal(k, hdrXForwardedPfx) {
				has |= hasXForwardedPrefix
			}
		}
	}
	return has
}

// responsePresence tells which of Keep-Alive, Upgrade and Trailer h holds,
// in one pass; hasAll when trailers are announced: All does not show the
// trailer section, and a response holds Trailer only as its announced
// names (fasthttp reads and sets it so), hasTrailer is then set. A
// response's All changes nothing (it may copy the default Server line
// into the header's own value, as its Del("Trailer") does).
func responsePresence(h *fasthttp.ResponseHeader) presence {
	for range h.Trailers() {
		return hasAll
	}
	var has presence
	for k := range h.All() {
		switch len(k) {
		case len("Keep-Alive"):
			if string(k) == "Keep-Alive" {
				has |= hasKeepAlive
			}
		case len("Upgrade"):
			if string(k) == "Upgrade" {
				has |= hasUpgrade
			}
		}
	}
	return has
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
			if i >= 3 && i+3 <= len(raw) && equalFoldLower(raw[i-3:i+3], "cookie") {
				return true
			}
			off = i + 1
		}
	}
	return false
}

// equalFoldLower compares b with lower, an ASCII lower-case letters
// string, ignoring b's case.
func equalFoldLower(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if b[i]|0x20 != lower[i] {
			return false
		}
	}
	return true
}
