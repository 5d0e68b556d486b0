package memory

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/luahost/luahost/kongdb"
	"github.com/luahost/luahost/kongdb/schema"
)

// A stored row is one immutable string (see DESIGN.md, "The memory store's
// rows"): a uvarint count of entries, then per entry a uvarint reference
// (i+1 for the schema's top-level field i, or 0 followed by a
// length-prefixed key for a key that is not a field) and the value. Values
// are a tag byte and a payload:
const (
	tagNil    byte = iota // a hole in an array (Go nil)
	tagNull               // schema.Null
	tagFalse              //
	tagTrue               //
	tagString             // uvarint length, bytes
	tagInt                // zigzag varint: a float64 holding an integer of at most 53 bits (not -0)
	tagFloat              // 8 bytes, the float64's bits little-endian
	tagArray              // uvarint n, n values
	tagMap                // uvarint n, n × (uvarint length, key bytes, value)
)

// A scalar has one encoding, so two key values are equal exactly when
// their encodings are: the indexes use a value's encoding, a substring of
// the row, as their key. (A map's entries are in Go's iteration order; a
// map is never a key.)

// appendValue appends the encoding of v; where names the field for the
// error about a value outside the value model.
func appendValue(b []byte, v any, where string) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, tagNil), nil
	case schema.NullType:
		return append(b, tagNull), nil
	case bool:
		if x {
			return append(b, tagTrue), nil
		}
		return append(b, tagFalse), nil
	case string:
		return appendString(append(b, tagString), x), nil
	case float64:
		return appendNumber(b, x), nil
	case int:
		return appendNumber(b, float64(x)), nil
	case int64:
		return appendNumber(b, float64(x)), nil
	case int32:
		return appendNumber(b, float64(x)), nil
	case float32:
		return appendNumber(b, float64(x)), nil
	case []any:
		b = binary.AppendUvarint(append(b, tagArray), uint64(len(x)))
		var err error
		for _, e := range x {
			if b, err = appendValue(b, e, where); err != nil {
				return nil, err
			}
		}
		return b, nil
	case []string:
		b = binary.AppendUvarint(append(b, tagArray), uint64(len(x)))
		for _, e := range x {
			b = appendString(append(b, tagString), e)
		}
		return b, nil
	case map[string]any:
		b = binary.AppendUvarint(append(b, tagMap), uint64(len(x)))
		var err error
		for k, e := range x {
			b = appendString(b, k)
			if b, err = appendValue(b, e, where+"."+k); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	return nil, fmt.Errorf("field '%s': cannot store a value of type %T", where, v)
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendNumber(b []byte, f float64) []byte {
	if f == math.Trunc(f) && math.Abs(f) <= 1<<53 && !(f == 0 && math.Signbit(f)) {
		return binary.AppendVarint(append(b, tagInt), int64(f))
	}
	return binary.LittleEndian.AppendUint64(append(b, tagFloat), math.Float64bits(f))
}

// uvarint reads a uvarint of s at i.
func uvarint(s string, i int) (uint64, int) {
	var x uint64
	var shift uint
	for ; i < len(s); i++ {
		c := s[i]
		if c < 0x80 {
			return x | uint64(c)<<shift, i + 1
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	panic("memory: truncated row encoding")
}

func varint(s string, i int) (int64, int) {
	u, i := uvarint(s, i)
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x, i
}

// skipValue returns the end of the value encoded at i.
func skipValue(s string, i int) int {
	tag := s[i]
	i++
	switch tag {
	case tagString:
		n, j := uvarint(s, i)
		return j + int(n)
	case tagInt:
		_, j := uvarint(s, i)
		return j
	case tagFloat:
		return i + 8
	case tagArray:
		n, j := uvarint(s, i)
		for ; n > 0; n-- {
			j = skipValue(s, j)
		}
		return j
	case tagMap:
		n, j := uvarint(s, i)
		for ; n > 0; n-- {
			kl, k := uvarint(s, j)
			j = skipValue(s, k+int(kl))
		}
		return j
	}
	return i
}

// decodeValue decodes the value at i; strings share the row's memory.
func decodeValue(s string, i int) (any, int) {
	b := newBoxer(1)
	return b.decode(s, i)
}

// decode decodes the value at i, boxing strings and numbers in b's slabs;
// strings share the row's memory.
func (b *boxer) decode(s string, i int) (any, int) {
	tag := s[i]
	i++
	switch tag {
	case tagNull:
		return schema.Null, i
	case tagFalse:
		return false, i
	case tagTrue:
		return true, i
	case tagString:
		n, j := uvarint(s, i)
		return b.str(s[j : j+int(n)]), j + int(n)
	case tagInt:
		x, j := varint(s, i)
		return b.num(float64(x)), j
	case tagFloat:
		return b.num(math.Float64frombits(leUint64(s[i : i+8]))), i + 8
	case tagArray:
		n, j := uvarint(s, i)
		arr := make([]any, n)
		for k := range arr {
			arr[k], j = b.decode(s, j)
		}
		return arr, j
	case tagMap:
		n, j := uvarint(s, i)
		m := make(map[string]any, n)
		for ; n > 0; n-- {
			kl, k := uvarint(s, j)
			key := s[k : k+int(kl)]
			m[key], j = b.decode(s, k+int(kl))
		}
		return m, j
	}
	return nil, i
}

func leUint64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// stringOf returns the string encoded in v (one value), ok false for
// another kind.
func stringOf(v string) (string, bool) {
	if len(v) == 0 || v[0] != tagString {
		return "", false
	}
	n, j := uvarint(v, 1)
	return v[j : j+int(n)], true
}

// numberOf returns the number encoded in v.
func numberOf(v string) float64 {
	if v[0] == tagInt {
		x, _ := varint(v, 1)
		return float64(x)
	}
	return math.Float64frombits(leUint64(v[1:9]))
}

// kindRank orders the kinds of key columns as compareVal does: booleans,
// then numbers, then strings; anything else ranks 0 and compares equal.
func kindRank(tag byte) int {
	switch tag {
	case tagFalse, tagTrue:
		return 1
	case tagInt, tagFloat:
		return 2
	case tagString:
		return 3
	}
	return 0
}

// compareEncoded orders two encoded key values as compareVal orders the
// values.
func compareEncoded(a, b string) int {
	ra, rb := kindRank(a[0]), kindRank(b[0])
	if ra != rb || ra == 0 {
		switch {
		case ra == 0 || rb == 0:
			return 0
		case ra < rb:
			return -1
		}
		return 1
	}
	switch ra {
	case 1:
		switch {
		case a[0] == b[0]:
			return 0
		case a[0] == tagFalse:
			return -1
		}
		return 1
	case 2:
		x, y := numberOf(a), numberOf(b)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	x, _ := stringOf(a)
	y, _ := stringOf(b)
	return strings.Compare(x, y)
}

// encodeRow encodes the stored row e: the primary-key fields first, in
// primary-key order (a key column is then found by skipping the ones
// before it), then the other fields in schema order, then other keys.
func (t *table) encodeRow(e kongdb.Row) (string, error) {
	b := make([]byte, 0, 64+16*len(e))
	b = binary.AppendUvarint(b, uint64(len(e)))
	written := 0
	var err error
	put := func(i int) {
		f := t.s.Fields[i]
		v, ok := e[f.Name]
		if !ok || err != nil {
			return
		}
		written++
		b = binary.AppendUvarint(b, uint64(i+1))
		b, err = appendValue(b, v, f.Name)
	}
	for _, i := range t.pkIdx {
		put(i)
	}
	for i := range t.s.Fields {
		if !t.isPK[i] {
			put(i)
		}
	}
	if written < len(e) && err == nil {
		for k, v := range e {
			if _, isField := t.fieldIdx[k]; isField {
				continue
			}
			b = appendString(append(b, 0), k)
			if b, err = appendValue(b, v, k); err != nil {
				break
			}
		}
	}
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// entries calls fn with each entry's field index (-1 for a key that is not
// a field, named by key) and the offset of its value, until fn returns
// false.
func entries(enc string, fn func(field int, key string, at int) bool) {
	n, i := uvarint(enc, 0)
	for ; n > 0; n-- {
		ref, j := uvarint(enc, i)
		key := ""
		if ref == 0 {
			kl, k := uvarint(enc, j)
			key, j = enc[k:k+int(kl)], k+int(kl)
		}
		if !fn(int(ref)-1, key, j) {
			return
		}
		i = skipValue(enc, j)
	}
}

// decodeRow decodes a stored row into a new map with room for extra more
// keys; field names are the schema's strings.
func (t *table) decodeRow(enc string, extra int, b *boxer) kongdb.Row {
	n, i := uvarint(enc, 0)
	row := make(kongdb.Row, int(n)+extra)
	for ; n > 0; n-- {
		var ref uint64
		ref, i = uvarint(enc, i)
		var key string
		if ref == 0 {
			kl, k := uvarint(enc, i)
			key, i = enc[k:k+int(kl)], k+int(kl)
		} else {
			key = t.s.Fields[ref-1].Name
		}
		row[key], i = b.decode(enc, i)
	}
	return row
}

// fieldEnc returns the encoding of field i's value in enc, or with i < 0
// of the key name that is not a field ("" when absent).
func fieldEnc(enc string, i int, name string) string {
	out := ""
	entries(enc, func(field int, key string, at int) bool {
		if field == i && (i >= 0 || key == name) {
			out = enc[at:skipValue(enc, at)]
			return false
		}
		return true
	})
	return out
}

// columnEnc is the encoding of field i (or key name) as a key column: a
// foreign key as its "id" (what column gives), "" for absent or null.
func columnEnc(enc string, i int, name string) string {
	v := fieldEnc(enc, i, name)
	if v == "" || v[0] == tagNull || v[0] == tagNil {
		return ""
	}
	if v[0] != tagMap {
		return v
	}
	n, j := uvarint(v, 1)
	for ; n > 0; n-- {
		kl, k := uvarint(v, j)
		end := skipValue(v, k+int(kl))
		if v[k:k+int(kl)] == "id" {
			id := v[k+int(kl) : end]
			if id[0] == tagNull || id[0] == tagNil {
				return ""
			}
			return id
		}
		j = end
	}
	return ""
}

// keyEnc appends the key encoding of value v (column(v)); ok is false for
// a missing or null value or one outside the value model.
func keyEnc(b []byte, v any) ([]byte, bool) {
	c := column(v)
	if c == nil || schema.IsNull(c) {
		return b, false
	}
	switch c.(type) {
	case map[string]any, []any, []string:
		return b, false
	}
	out, err := appendValue(b, c, "")
	if err != nil {
		return b, false
	}
	return out, true
}
