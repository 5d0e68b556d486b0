package router

import (
	"crypto/sha1"
	"encoding/hex"
	"math"
	"strings"
)

// Priority layout of transform.lua get_priority for HTTP routes, most
// significant first:
//
//	bits 61-63  number of non-empty fields among sources, destinations,
//	            methods, hosts, headers, snis, paths
//	bit  60     hosts set and none of them a wildcard
//	bits 52-59  number of header names (capped at 255)
//	bit  51     the paths are regexes
//	bits 19-50  regex_priority (regex paths only)
//	bits  0-18  length of the prefix paths
//
// Kong computes the shifts of the plain-number terms with LuaJIT's 32-bit
// bit.lshift (transform.lua lshift_uint64 rebinds its argument instead of
// converting it), which folds weights 4-7 together and lets a negative or large
// regex_priority spill over the other fields. This layout is the documented
// intent, with regex_priority kept signed (offset binary) in its 32 bits.
const (
	weightShift     = 61
	plainHostBit    = uint64(1) << 60
	headerShift     = 52
	maxHeaderCount  = 255
	regexBit        = uint64(1) << 51
	regexPrioShift  = 19
	prefixLenMask   = 0x7FFFF
	regexPrioOffset = uint64(1) << 31
)

// priority of a Route (or of the part of a Route holding paths, after the
// split by path group).
func priority(r *Route, paths []string) uint64 {
	weight := uint64(0)
	for _, set := range []bool{
		len(r.Sources) > 0, len(r.Destinations) > 0, len(r.Methods) > 0,
		len(r.Hosts) > 0, len(r.Headers) > 0, len(r.SNIs) > 0, len(paths) > 0,
	} {
		if set {
			weight++
		}
	}
	p := weight << weightShift

	if len(r.Hosts) > 0 {
		plain := true
		for _, h := range r.Hosts {
			if strings.IndexByte(h, '*') >= 0 {
				plain = false
				break
			}
		}
		if plain {
			p |= plainHostBit
		}
	}

	hc := uint64(len(r.Headers))
	if hc > maxHeaderCount {
		hc = maxHeaderCount
	}
	p |= hc << headerShift

	if len(paths) > 0 {
		if isRegexPath(paths[0]) {
			rp := r.RegexPriority
			if rp > math.MaxInt32 {
				rp = math.MaxInt32
			} else if rp < math.MinInt32 {
				rp = math.MinInt32
			}
			p |= regexBit | (uint64(int64(rp)+int64(regexPrioOffset)) << regexPrioShift)
		} else {
			p |= uint64(len(paths[0])) & prefixLenMask
		}
	}
	return p
}

func isRegexPath(p string) bool { return len(p) > 0 && p[0] == '~' }

// pathGroups splits a Route's paths as transform.lua
// split_routes_and_services_by_path does: all regexes in one group, prefixes
// grouped by length, groups in order of first appearance.
func pathGroups(paths []string) [][]string {
	var groups [][]string
	index := map[int]int{}
	for _, p := range paths {
		k := len(p)
		if isRegexPath(p) {
			k = 0
		}
		if i, ok := index[k]; ok {
			groups[i] = append(groups[i], p)
			continue
		}
		index[k] = len(groups)
		groups = append(groups, []string{p})
	}
	return groups
}

// splitRouteNamespace is the uuid v5 namespace Kong derives split routes' ids
// from (transform.lua uuid_generator), so ties order as in Kong.
var splitRouteNamespace = mustParseUUID("7f145bf9-0dce-4f91-98eb-debbce4b9f6b")

// uuidV5 is RFC 4122 name-based (SHA-1) uuid, as resty.jit-uuid factory_v5.
func uuidV5(ns [16]byte, name string) string {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	sum := h.Sum(nil)
	var u [16]byte
	copy(u[:], sum[:16])
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return formatUUID(u)
}

func formatUUID(u [16]byte) string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

func parseUUID(s string) ([16]byte, bool) {
	var u [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	if _, err := hex.Decode(u[:], []byte(h)); err != nil {
		return u, false
	}
	return u, true
}

func mustParseUUID(s string) [16]byte {
	u, ok := parseUUID(s)
	if !ok {
		panic("router: bad uuid " + s)
	}
	return u
}
