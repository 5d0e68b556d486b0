package cache

import (
	"encoding/binary"
	"time"
)

// An entry in freecache is a 9-byte header followed by the encoded value:
//
//	[0]    flags: entryStale
//	[1:9]  expiry, Unix nanoseconds by the cache's clock (0 = never)
//
// freecache expires entries in whole seconds, so the precise expiry lives
// here and is checked on every read; freecache's own TTL (rounded up, plus
// the resurrection window) only reclaims the space.
const (
	entryStale byte = 1 << 0
)

func putHeader(b []byte, flags byte, expireAt int64) {
	b[0] = flags
	binary.LittleEndian.PutUint64(b[1:9], uint64(expireAt))
}

func readHeader(b []byte) (flags byte, expireAt int64, ok bool) {
	if len(b) < headerLen {
		return 0, 0, false
	}
	return b[0], int64(binary.LittleEndian.Uint64(b[1:9])), true
}

// expired reports whether an entry with expiry expireAt is past at now.
func expired(expireAt, now int64) bool { return expireAt != 0 && now >= expireAt }

// expireAtFor is the stored expiry of an entry written at now with ttl.
func expireAtFor(now int64, ttl time.Duration) int64 {
	if ttl <= 0 {
		return 0
	}
	return now + int64(ttl)
}

// freecacheSeconds is freecache's TTL for an entry with ttl, kept grace
// longer so an expired value can still be resurrected: whole seconds,
// rounded up, plus one because freecache counts from the start of the
// current second.
func freecacheSeconds(ttl, grace time.Duration) int {
	if ttl <= 0 {
		return 0
	}
	d := ttl + grace
	s := int((d + time.Second - 1) / time.Second)
	return s + 1
}
