package balancer

import (
	"strings"
	"testing"
)

// XXH32 against the published test vectors (xxHash's, the python-xxhash
// README's) and the values luaxxhash's own test expects, which it gives
// as LuaJIT's signed 32-bit numbers.
func TestXXHash32Vectors(t *testing.T) {
	cats := "Cats are interesting."
	for s, want := range map[string]int32{
		"":    0x02CC5D05,
		"a":   0x550D7456,
		"abc": 0x32D153FF,
		"Nobody inspects the spammish repetition": -0x1DD6C4D1, // 0xE2293B2F
		"aaaa":                    -631806169,
		strings.Repeat("a", 16):   1571609996,
		strings.Repeat("a", 32):   -1557966914,
		strings.Repeat("a", 37):   1065833563,
		strings.Repeat(cats, 256): -237286296,
		"dupa":                    0x1A47C09D,
		cats:                      1710037756,
	} {
		if got := int32(xxhash32(s)); got != want {
			t.Errorf("xxhash32(%.20q) = %d, want %d", s, got, want)
		}
	}
}

// Kong's slot for a value: the signed hash modulo the points, as Lua's %
// (the result takes the divisor's sign), plus one. "aaaa" hashes to
// -631806169: slot 832 of 1000, where an unsigned modulo gives 128.
func TestContinuumIndex(t *testing.T) {
	if got := continuumIndex("aaaa", 1000); got != 832 {
		t.Fatalf("slot %d, want 832", got)
	}
	if got := continuumIndex("key-1", 1000); got != 522 { // 0x39636a09
		t.Fatalf("slot %d, want 522", got)
	}
}

// The continuum is Kong's: an address's points are named
// "<ip>::<port> <i>" (consistent_hashing.lua joins ip, ":" and ":"..port)
// and placed by XXH32, so a value that is a point's name picks that
// address, as it does in Kong. XXH32("10.0.0.1::80 1") = 0x3ec78443 (slot
// 916 of 1000); XXH32("10.0.0.2::80 1") = 0x9b3d0b10, negative as Kong
// sees it (slot 713).
func TestContinuumAsKong(t *testing.T) {
	up := upRow("u1", "up", map[string]any{"algorithm": "consistent-hashing", "hash_on": "header",
		"hash_on_header": "x-key", "slots": float64(1000)})
	_, b := build(t, nil, up, tgRow("u1", "10.0.0.2:80", 100), tgRow("u1", "10.0.0.1:80", 100))
	if a := b.continuum[915]; a == nil || a.IP != "10.0.0.1" {
		t.Fatalf("slot 916: %v", a)
	}
	if a := b.continuum[712]; a == nil || a.IP != "10.0.0.2" {
		t.Fatalf("slot 713: %v", a)
	}
	for value, ip := range map[string]string{"10.0.0.1::80 1": "10.0.0.1", "10.0.0.2::80 1": "10.0.0.2"} {
		if p, _ := pick(t, b, value); p.IP != ip {
			t.Fatalf("%q picked %s, want %s", value, p.IP, ip)
		}
	}
	n := 0
	for _, a := range b.continuum {
		if a != nil {
			n++
		}
	}
	if n != 320 {
		t.Fatalf("%d points, want 2 × 160", n)
	}
}

// Kong's walk from a value's slot downwards stops before the slot just
// above the start: an address only there is not found.
func TestContinuumWalk(t *testing.T) {
	up := upRow("u1", "up", map[string]any{"algorithm": "consistent-hashing", "slots": float64(1000)})
	_, b := build(t, nil, up, tgRow("u1", "10.0.0.1:80", 100))
	a := b.targets[0].Addresses[0]
	clear(b.continuum)
	b.continuum[500] = a // slot 501
	for start, want := range map[int]bool{501: true, 600: true, 1000: true, 1: true, 500: false} {
		h := &Handle{hash: start}
		if got := b.pickHash(h, "") != nil; got != want {
			t.Errorf("from slot %d: found %v, want %v", start, got, want)
		}
	}
}
