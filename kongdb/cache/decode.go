package cache

import (
	"encoding/binary"
	"errors"
	"math"
)

// Kind is the kind of a decoded token.
type Kind uint8

// Token kinds.
const (
	KindNil Kind = iota
	KindNull
	KindBool
	KindNumber
	KindString
	KindTable
)

// ErrCorrupt reports bytes that are not a value of this codec.
var ErrCorrupt = errors.New("cache: corrupt encoded value")

// MaxDepth bounds table nesting in Unmarshal and Marshal (and should bound a
// recursive decoder in pdk), as a guard against cycles and corrupt input.
const MaxDepth = 100

// A Token is one decoded item. For KindTable, NArr array items follow, then
// NHash key/value pairs; read them with further calls to Next.
type Token struct {
	Kind  Kind
	Bool  bool
	Num   float64
	Str   []byte // KindString: a view into the decoder's input; copy to keep
	NArr  int
	NHash int
	Flags byte // KindTable: FlagArray
}

// A Decoder reads an encoded value token by token (a pull reader), so the
// pdk can build Lua values directly. The zero Decoder is empty; Reset it
// onto a buffer.
type Decoder struct {
	buf []byte
	off int
}

// NewDecoder returns a decoder over b.
func NewDecoder(b []byte) *Decoder { return &Decoder{buf: b} }

// Reset points the decoder at b.
func (d *Decoder) Reset(b []byte) { d.buf, d.off = b, 0 }

// Remaining is the number of unread bytes.
func (d *Decoder) Remaining() int { return len(d.buf) - d.off }

// Next reads the next token.
func (d *Decoder) Next() (Token, error) {
	if d.off >= len(d.buf) {
		return Token{}, ErrCorrupt
	}
	tag := d.buf[d.off]
	d.off++
	if tag&tagFixInt != 0 {
		return Token{Kind: KindNumber, Num: float64(tag &^ tagFixInt)}, nil
	}
	switch tag {
	case tagNil:
		return Token{Kind: KindNil}, nil
	case tagNull:
		return Token{Kind: KindNull}, nil
	case tagFalse:
		return Token{Kind: KindBool}, nil
	case tagTrue:
		return Token{Kind: KindBool, Bool: true}, nil
	case tagInt:
		n, w := binary.Varint(d.buf[d.off:])
		if w <= 0 {
			return Token{}, ErrCorrupt
		}
		d.off += w
		return Token{Kind: KindNumber, Num: float64(n)}, nil
	case tagFloat:
		if len(d.buf)-d.off < 8 {
			return Token{}, ErrCorrupt
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(d.buf[d.off:]))
		d.off += 8
		return Token{Kind: KindNumber, Num: f}, nil
	case tagString:
		n, w := binary.Uvarint(d.buf[d.off:])
		if w <= 0 || n > uint64(len(d.buf)-d.off-w) {
			return Token{}, ErrCorrupt
		}
		d.off += w
		s := d.buf[d.off : d.off+int(n) : d.off+int(n)]
		d.off += int(n)
		return Token{Kind: KindString, Str: s}, nil
	case tagTable:
		if len(d.buf)-d.off < 9 {
			return Token{}, ErrCorrupt
		}
		flags := d.buf[d.off]
		narr := uint64(binary.LittleEndian.Uint32(d.buf[d.off+1:]))
		nhash := uint64(binary.LittleEndian.Uint32(d.buf[d.off+5:]))
		d.off += 9
		// Every value takes at least one byte: reject counts the rest of
		// the input cannot hold before anyone allocates for them.
		if narr+2*nhash > uint64(len(d.buf)-d.off) {
			return Token{}, ErrCorrupt
		}
		return Token{Kind: KindTable, NArr: int(narr), NHash: int(nhash), Flags: flags}, nil
	}
	return Token{}, ErrCorrupt
}

// Skip reads and discards one whole value (a table with all its content).
func (d *Decoder) Skip() error {
	pending := 1
	for pending > 0 {
		t, err := d.Next()
		if err != nil {
			return err
		}
		pending--
		if t.Kind == KindTable {
			pending += t.NArr + 2*t.NHash
		}
	}
	return nil
}
