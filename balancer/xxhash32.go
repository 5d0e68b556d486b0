package balancer

import "math/bits"

// The primes of xxHash32 (the XXH32 algorithm as published in xxHash's
// doc/xxhash_spec.md).
const (
	prime32a uint32 = 2654435761
	prime32b uint32 = 2246822519
	prime32c uint32 = 3266489917
	prime32d uint32 = 668265263
	prime32e uint32 = 374761393
)

// xxhash32 is XXH32 of s with seed 0, the hash Kong's consistent-hashing
// balancer uses (the luaxxhash rock).
func xxhash32(s string) uint32 {
	var seed uint32 // Kong hashes with seed 0
	n := len(s)
	var h uint32
	if n >= 16 {
		acc := [4]uint32{seed + prime32a + prime32b, seed + prime32b, seed, seed - prime32a}
		for ; len(s) >= 16; s = s[16:] {
			for i := range acc {
				lane := le32(s[4*i:])
				acc[i] = bits.RotateLeft32(acc[i]+lane*prime32b, 13) * prime32a
			}
		}
		h = bits.RotateLeft32(acc[0], 1) + bits.RotateLeft32(acc[1], 7) +
			bits.RotateLeft32(acc[2], 12) + bits.RotateLeft32(acc[3], 18)
	} else {
		h = seed + prime32e
	}
	h += uint32(n)
	for ; len(s) >= 4; s = s[4:] {
		h = bits.RotateLeft32(h+le32(s)*prime32c, 17) * prime32d
	}
	for i := 0; i < len(s); i++ {
		h = bits.RotateLeft32(h+uint32(s[i])*prime32e, 11) * prime32a
	}
	h ^= h >> 15
	h *= prime32b
	h ^= h >> 13
	h *= prime32c
	h ^= h >> 16
	return h
}

// le32 reads 4 bytes of s, little-endian.
func le32(s string) uint32 {
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// continuumIndex is Kong's get_continuum_index: the 1-based slot of a
// value on a continuum of points slots. luaxxhash returns the hash as
// LuaJIT's bit operations give it, a signed 32-bit number, and Lua's %
// takes the sign of the divisor.
func continuumIndex(s string, points int) int {
	v := int64(int32(xxhash32(s))) % int64(points)
	if v < 0 {
		v += int64(points)
	}
	return int(v) + 1
}
