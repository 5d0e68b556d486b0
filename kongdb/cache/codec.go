package cache

import (
	"encoding/binary"
	"math"
)

// Wire tags of the codec. A value is one tag byte followed by its payload:
//
//	tagNil                         nil (a negative entry's value)
//	tagNull                        ngx.null / schema.Null
//	tagFalse, tagTrue              booleans
//	tagInt    zigzag uvarint       a number that is an integer in ±2^53
//	tagFloat  8 bytes LE           any other number (bits of a float64)
//	tagString uvarint len, bytes   a string (Lua strings are bytes)
//	tagTable  flags, u32 narr, u32 nhash (LE), then narr values (indexes
//	          1..narr), then nhash key/value pairs
//	0x80|n                         a small integer 0..127
const (
	tagNil    byte = 0x00
	tagNull   byte = 0x01
	tagFalse  byte = 0x02
	tagTrue   byte = 0x03
	tagInt    byte = 0x04
	tagFloat  byte = 0x05
	tagString byte = 0x06
	tagTable  byte = 0x07
	tagFixInt byte = 0x80
)

// Table flags.
const (
	// FlagArray marks a table that was an array in the source (a Go slice,
	// or a Lua table carrying cjson's array metatable), so an empty array
	// can come back as an array.
	FlagArray byte = 1 << 0
)

// headerLen is the entry header the cache writes in front of every value
// (see entry.go); an Encoder reserves it so the cache can store the
// encoder's buffer without copying it.
const headerLen = 9

// maxExactInt is the largest integer a float64 holds exactly (2^53).
const maxExactInt = 1 << 53

// An Encoder builds one encoded value with append primitives. Write a scalar
// with Nil/Null/Bool/Number/String, or a table with Table(narr, nhash)
// followed by narr values and then nhash key/value pairs (key first). When
// the counts are not known up front, BeginTable reserves the header and
// EndTable patches it.
//
// An Encoder is not safe for concurrent use; keep one per worker and Reset
// it between values.
type Encoder struct {
	buf []byte
}

// NewEncoder returns an empty Encoder.
func NewEncoder() *Encoder {
	e := &Encoder{buf: make([]byte, headerLen, 256)}
	return e
}

// Reset empties the encoder, keeping its buffer.
func (e *Encoder) Reset() {
	if cap(e.buf) < headerLen {
		e.buf = make([]byte, headerLen, 256)
		return
	}
	e.buf = e.buf[:headerLen]
}

// Bytes returns the encoded value. It stays valid until the next Reset or
// write.
func (e *Encoder) Bytes() []byte {
	if len(e.buf) < headerLen {
		return nil
	}
	return e.buf[headerLen:]
}

// Len is the number of encoded bytes so far.
func (e *Encoder) Len() int { return len(e.Bytes()) }

func (e *Encoder) grow() {
	if len(e.buf) < headerLen {
		e.Reset()
	}
}

// Nil writes nil. A value that is nil alone is a negative result.
func (e *Encoder) Nil() { e.grow(); e.buf = append(e.buf, tagNil) }

// Null writes ngx.null (schema.Null).
func (e *Encoder) Null() { e.grow(); e.buf = append(e.buf, tagNull) }

// Bool writes a boolean.
func (e *Encoder) Bool(b bool) {
	e.grow()
	if b {
		e.buf = append(e.buf, tagTrue)
	} else {
		e.buf = append(e.buf, tagFalse)
	}
}

// Number writes a number: integral values in ±2^53 (not -0) compactly, any
// other value (fractions, -0, ±Inf, NaN) as its float64 bits.
func (e *Encoder) Number(f float64) {
	e.grow()
	if f >= 0 && f < 128 && f == math.Trunc(f) && !(f == 0 && math.Signbit(f)) {
		e.buf = append(e.buf, tagFixInt|byte(f))
		return
	}
	if f == math.Trunc(f) && f > -maxExactInt && f < maxExactInt && !(f == 0 && math.Signbit(f)) {
		e.buf = append(e.buf, tagInt)
		e.buf = binary.AppendVarint(e.buf, int64(f))
		return
	}
	e.buf = append(e.buf, tagFloat)
	e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(f))
}

// String writes a string.
func (e *Encoder) String(s string) {
	e.grow()
	e.buf = append(e.buf, tagString)
	e.buf = binary.AppendUvarint(e.buf, uint64(len(s)))
	e.buf = append(e.buf, s...)
}

// StringBytes writes a string given as bytes.
func (e *Encoder) StringBytes(s []byte) {
	e.grow()
	e.buf = append(e.buf, tagString)
	e.buf = binary.AppendUvarint(e.buf, uint64(len(s)))
	e.buf = append(e.buf, s...)
}

// Table starts a table of narr array items (indexes 1..narr) and nhash
// key/value pairs; exactly narr+2*nhash values must follow. flags is 0 or
// FlagArray.
func (e *Encoder) Table(narr, nhash int, flags byte) {
	e.grow()
	e.buf = append(e.buf, tagTable, flags)
	e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(narr))
	e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(nhash))
}

// TableMark is the position of a table header written by BeginTable.
type TableMark int

// BeginTable writes a table header whose counts are filled in by EndTable.
// Write the array items first, then the key/value pairs.
func (e *Encoder) BeginTable() TableMark {
	e.grow()
	m := TableMark(len(e.buf))
	e.buf = append(e.buf, tagTable, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	return m
}

// EndTable fills in the header written by BeginTable.
func (e *Encoder) EndTable(m TableMark, narr, nhash int, flags byte) {
	i := int(m)
	e.buf[i+1] = flags
	binary.LittleEndian.PutUint32(e.buf[i+2:], uint32(narr))
	binary.LittleEndian.PutUint32(e.buf[i+6:], uint32(nhash))
}

// Truncate drops everything written after m (m from BeginTable or Mark), to
// back out of a value that turned out not to be encodable.
func (e *Encoder) Truncate(m TableMark) { e.buf = e.buf[:int(m)] }

// Mark returns the current position, for Truncate.
func (e *Encoder) Mark() TableMark { e.grow(); return TableMark(len(e.buf)) }

// isNilValue reports whether the encoded value is nil (or nothing was written):
// a negative result.
func isNilValue(v []byte) bool { return len(v) == 0 || (len(v) == 1 && v[0] == tagNil) }
