package postgres

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/luahost/luahost/kongdb/schema"
)

// bindValue turns a value of the value model into a pgx parameter for a
// column of kind k. Null and absent values bind as SQL NULL.
func bindValue(c *column, v any) (any, error) {
	if v == nil || schema.IsNull(v) {
		return nil, nil
	}
	switch c.kind {
	case kForeign:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("foreign field %q must be a table", c.field.Name)
		}
		return bindScalar(m[c.fkPK]), nil
	case kInteger:
		if f, ok := v.(float64); ok {
			return toInt64(c.field.Name, math.Round(f))
		}
		return bindScalar(v), nil
	case kTimestamp:
		return v, nil
	case kJSON:
		b, err := json.Marshal(schema.JSONReady(v))
		if err != nil {
			return nil, err
		}
		return string(b), nil
	case kArray:
		return bindArray(v)
	}
	return bindScalar(v), nil
}

// toInt64 converts a whole number for a BIGINT column; a value outside
// int64 (or NaN) is refused rather than wrapped, which Go's conversion
// would do silently (1e19 became -9223372036854775808).
func toInt64(field string, f float64) (int64, error) {
	if !schema.IsInt64(f) {
		return 0, fmt.Errorf("integer field %q: %s out of range for BIGINT", field, strconv.FormatFloat(f, 'g', -1, 64))
	}
	return int64(f), nil
}

func bindScalar(v any) any {
	if v == nil || schema.IsNull(v) {
		return nil
	}
	return v
}

// bindArray encodes an array/set: strings as []string (TEXT[] or UUID[]),
// numbers as []float64, records and maps as JSON texts (JSONB[]).
func bindArray(v any) (any, error) {
	arr, ok := v.([]any)
	if !ok {
		if ss, ok := v.([]string); ok {
			return ss, nil
		}
		return nil, fmt.Errorf("array expected, got %T", v)
	}
	if len(arr) == 0 {
		return []string{}, nil
	}
	switch arr[0].(type) {
	case float64:
		out := make([]float64, len(arr))
		for i, e := range arr {
			f, _ := e.(float64)
			out[i] = f
		}
		return out, nil
	case map[string]any, []any:
		out := make([]string, len(arr))
		for i, e := range arr {
			b, err := json.Marshal(schema.JSONReady(e))
			if err != nil {
				return nil, err
			}
			out[i] = string(b)
		}
		return out, nil
	}
	out := make([]string, len(arr))
	for i, e := range arr {
		out[i] = fmt.Sprint(e)
	}
	return out, nil
}

// decodeValue maps a pgx-decoded value into the value model: numbers as
// float64, UUIDs as strings, SQL NULL and JSON null as schema.Null.
func decodeValue(v any) any {
	switch t := v.(type) {
	case nil:
		return schema.Null
	case string, bool, float64:
		return t
	case [16]byte:
		return formatUUID(t)
	case pgtype.UUID:
		if !t.Valid {
			return schema.Null
		}
		return formatUUID(t.Bytes)
	case int64:
		return float64(t)
	case int32:
		return float64(t)
	case int16:
		return float64(t)
	case int8:
		return float64(t)
	case int:
		return float64(t)
	case uint32:
		return float64(t)
	case float32:
		return float64(t)
	case pgtype.Numeric:
		f, err := t.Float64Value()
		if err != nil || !f.Valid {
			return schema.Null
		}
		return f.Float64
	case time.Time:
		return float64(t.UnixNano()) / 1e9
	case []byte:
		return string(t)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = decodeValue(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = decodeValue(e)
		}
		return out
	case pgtype.Text:
		if !t.Valid {
			return schema.Null
		}
		return t.String
	}
	return fmt.Sprint(v)
}

func formatUUID(b [16]byte) string {
	var out [36]byte
	return string(appendUUID(out[:0], b[:]))
}

// appendUUID appends the text of the 16 bytes of a uuid.
func appendUUID(dst []byte, b []byte) []byte {
	const hexd = "0123456789abcdef"
	for i := 0; i < 16; i++ {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexd[b[i]>>4], hexd[b[i]&0xf])
	}
	return dst
}
