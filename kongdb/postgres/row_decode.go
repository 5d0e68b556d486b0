package postgres

import (
	"encoding/binary"
	"math"
	"unsafe"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/luahost/luahost/kongdb/internal/box"
)

// rawValues decodes the current row of rows into the values decodeValue
// gives for pgx's rows.Values(), without pgx's intermediate values for the
// column types Kong's tables use most: a uuid straight to its text (pgx
// makes a [16]byte, then we format it), a numeric (EXTRACT(EPOCH ...)) to
// its float64 without math/big, text, float8, integers and booleans as
// they are. Any other type goes through pgx's codec, as Values() does.
// The texts of the row share one buffer, and their boxes and the numbers'
// share one slab (box.Boxer): a row costs two allocations for those
// values, not two per text. vals is reused when it has room.
func rawValues(rows pgx.Rows, fds []pgconn.FieldDescription, tm *pgtype.Map, vals []any) ([]any, error) {
	raw := rows.RawValues()
	if cap(vals) < len(fds) {
		vals = make([]any, len(fds))
	}
	vals = vals[:len(fds)]
	nbytes, nboxes := 0, 0
	for i := range fds {
		if raw[i] != nil {
			n, boxed := fastSize(fds[i].DataTypeOID, fds[i].Format, raw[i])
			nbytes += n
			if boxed {
				nboxes++
			}
		}
	}
	d := decoder{b: box.New(nboxes)}
	if nbytes > 0 {
		d.text = make([]byte, 0, nbytes)
	}
	for i := range fds {
		buf := raw[i]
		if buf == nil {
			vals[i] = nil
			continue
		}
		fd := &fds[i]
		if v, ok := d.fastValue(fd.DataTypeOID, fd.Format, buf); ok {
			vals[i] = v
			continue
		}
		if dt, ok := tm.TypeForOID(fd.DataTypeOID); ok {
			v, err := dt.Codec.DecodeValue(tm, fd.DataTypeOID, fd.Format, buf)
			if err != nil {
				return nil, err
			}
			vals[i] = v // decodeValue (toRow) finishes it, as for Values()
			continue
		}
		vals[i] = string(buf) // Values() gives the text, or a copy of the bytes decodeValue makes a string
	}
	return vals, nil
}

// decoder holds a row's text buffer and its boxes.
type decoder struct {
	text []byte // the row's texts, appended; never written behind its length
	b    box.Boxer
}

// str is buf's text as a string in d's buffer (appended to it: the bytes
// a string was made of are not written again).
func (d *decoder) str(buf []byte) any {
	if len(buf) == 0 {
		return ""
	}
	n := len(d.text)
	d.text = append(d.text, buf...)
	return d.b.Str(unsafe.String(&d.text[n], len(buf)))
}

// uuid is the text of a binary uuid, in d's buffer.
func (d *decoder) uuid(b []byte) any {
	n := len(d.text)
	d.text = appendUUID(d.text, b)
	return d.b.Str(unsafe.String(&d.text[n], 36))
}

// fastSize is what fastValue takes of a non-NULL value: bytes of text and
// whether it is boxed in the slab (a string or a number; an estimate for
// a type it may hand to pgx, which only costs an unused slot).
func fastSize(oid uint32, format int16, buf []byte) (int, bool) {
	switch oid {
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.NameOID:
		return len(buf), true
	}
	if format != pgx.BinaryFormatCode {
		return 0, false
	}
	switch oid {
	case pgtype.UUIDOID:
		if len(buf) == 16 {
			return 36, true
		}
	case pgtype.NumericOID, pgtype.Float8OID, pgtype.Int8OID, pgtype.Int4OID, pgtype.Int2OID:
		return 0, true
	}
	return 0, false
}

// fastValue decodes the types it knows; ok is false for the others (and
// for a numeric it cannot convert exactly this way).
func (d *decoder) fastValue(oid uint32, format int16, buf []byte) (any, bool) {
	switch oid {
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.NameOID:
		return d.str(buf), true
	}
	if format != pgx.BinaryFormatCode {
		return nil, false
	}
	switch oid {
	case pgtype.UUIDOID:
		if len(buf) != 16 {
			return nil, false
		}
		return d.uuid(buf), true
	case pgtype.NumericOID:
		f, ok := numericFloat(buf)
		if !ok {
			return nil, false
		}
		return d.b.Num(f), true
	case pgtype.Float8OID:
		if len(buf) != 8 {
			return nil, false
		}
		return d.b.Num(math.Float64frombits(binary.BigEndian.Uint64(buf))), true
	case pgtype.Int8OID:
		if len(buf) != 8 {
			return nil, false
		}
		return d.b.Num(float64(int64(binary.BigEndian.Uint64(buf)))), true
	case pgtype.Int4OID:
		if len(buf) != 4 {
			return nil, false
		}
		return d.b.Num(float64(int32(binary.BigEndian.Uint32(buf)))), true
	case pgtype.Int2OID:
		if len(buf) != 2 {
			return nil, false
		}
		return d.b.Num(float64(int16(binary.BigEndian.Uint16(buf)))), true
	case pgtype.BoolOID:
		if len(buf) != 1 {
			return nil, false
		}
		return buf[0] != 0, true
	}
	return nil, false
}

// pow10 are the powers of ten a float64 holds exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// numericFloat converts a numeric in binary format (ndigits, weight, sign,
// dscale, then base-10000 digits) to the nearest float64 when its digits
// make an integer of at most 53 bits scaled by a power of ten up to 22:
// then m * 10^e (or m / 10^-e) rounds once, exactly as parsing its decimal
// text does (pgx's Float64Value). ok is false otherwise (NaN, infinities,
// more digits): pgx converts those.
func numericFloat(buf []byte) (float64, bool) {
	if len(buf) < 8 {
		return 0, false
	}
	ndigits := int(binary.BigEndian.Uint16(buf))
	weight := int(int16(binary.BigEndian.Uint16(buf[2:])))
	sign := binary.BigEndian.Uint16(buf[4:])
	if len(buf) != 8+2*ndigits || (sign != 0 && sign != 0x4000) {
		return 0, false
	}
	var m uint64
	for i := 0; i < ndigits; i++ {
		d := uint64(binary.BigEndian.Uint16(buf[8+2*i:]))
		if d > 9999 || m > (1<<53)/10000 {
			return 0, false
		}
		m = m*10000 + d
	}
	if m > 1<<53 {
		return 0, false
	}
	e := 4 * (weight - ndigits + 1)
	f := float64(m)
	switch {
	case m == 0:
		f = 0
	case e > 0 && e < len(pow10):
		f *= pow10[e]
	case e < 0 && -e < len(pow10):
		f /= pow10[-e]
	case e != 0:
		return 0, false
	}
	if sign == 0x4000 {
		f = -f
	}
	return f, true
}
