package cache

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/luahost/luahost/kongdb/schema"
)

// Marshal encodes a value of the Go value model (kongdb/schema): nil,
// schema.Null, bool, numbers, string, []any, []string, map[string]any,
// map[string]string. Map keys are written in sorted order so equal values
// encode to equal bytes. Other types fail with Kong's
// "cannot cache value of type <t>".
func Marshal(v any) ([]byte, error) {
	e := NewEncoder()
	if err := AppendValue(e, v); err != nil {
		return nil, err
	}
	return append([]byte(nil), e.Bytes()...), nil
}

// Unmarshal decodes one value into the Go value model: tables written as
// arrays (or non-empty pure sequences) become []any, other tables
// map[string]any (non-string keys formatted as Lua's tostring would),
// numbers float64, ngx.null schema.Null.
func Unmarshal(b []byte) (any, error) {
	d := Decoder{buf: b}
	// One string holds every string of the value; decoded strings are
	// substrings of it (one allocation instead of one per string).
	v, err := decodeValue(&d, 0, string(b))
	if err != nil {
		return nil, err
	}
	if d.Remaining() != 0 {
		return nil, ErrCorrupt
	}
	return v, nil
}

// AppendValue encodes v (see Marshal) onto e.
func AppendValue(e *Encoder, v any) error { return appendValue(e, v, 0) }

func appendValue(e *Encoder, v any, depth int) error {
	if depth > MaxDepth {
		return fmt.Errorf("cannot cache value: tables nested deeper than %d", MaxDepth)
	}
	switch x := v.(type) {
	case nil:
		e.Nil()
	case schema.NullType:
		e.Null()
	case bool:
		e.Bool(x)
	case float64:
		e.Number(x)
	case float32:
		e.Number(float64(x))
	case int:
		e.Number(float64(x))
	case int8:
		e.Number(float64(x))
	case int16:
		e.Number(float64(x))
	case int32:
		e.Number(float64(x))
	case int64:
		e.Number(float64(x))
	case uint:
		e.Number(float64(x))
	case uint8:
		e.Number(float64(x))
	case uint16:
		e.Number(float64(x))
	case uint32:
		e.Number(float64(x))
	case uint64:
		e.Number(float64(x))
	case string:
		e.String(x)
	case []any:
		e.Table(len(x), 0, FlagArray)
		for _, it := range x {
			if err := appendValue(e, it, depth+1); err != nil {
				return err
			}
		}
	case []string:
		e.Table(len(x), 0, FlagArray)
		for _, it := range x {
			e.String(it)
		}
	case map[string]any:
		e.Table(0, len(x), 0)
		for _, k := range sortedKeys(x) {
			e.String(k)
			if err := appendValue(e, x[k], depth+1); err != nil {
				return err
			}
		}
	case map[string]string:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		e.Table(0, len(x), 0)
		for _, k := range keys {
			e.String(k)
			e.String(x[k])
		}
	default:
		return fmt.Errorf("cannot cache value of type %s", goTypeName(v))
	}
	return nil
}

func goTypeName(v any) string {
	switch v.(type) {
	case *schema.Func:
		return "function"
	}
	return fmt.Sprintf("%T", v)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// DecodeValue reads one value from d into the Go value model.
func DecodeValue(d *Decoder) (any, error) { return decodeValue(d, 0, "") }

// decodeValue decodes one value; whole, when not empty, is d's buffer as a
// string, from which strings are sliced.
func decodeValue(d *Decoder, depth int, whole string) (any, error) {
	if depth > MaxDepth {
		return nil, ErrCorrupt
	}
	t, err := d.Next()
	if err != nil {
		return nil, err
	}
	switch t.Kind {
	case KindNil:
		return nil, nil
	case KindNull:
		return schema.Null, nil
	case KindBool:
		return t.Bool, nil
	case KindNumber:
		return t.Num, nil
	case KindString:
		if whole != "" {
			end := d.off
			return whole[end-len(t.Str) : end], nil
		}
		return string(t.Str), nil
	}
	if t.NHash == 0 && (t.NArr > 0 || t.Flags&FlagArray != 0) {
		arr := make([]any, t.NArr)
		for i := range arr {
			if arr[i], err = decodeValue(d, depth+1, whole); err != nil {
				return nil, err
			}
		}
		return arr, nil
	}
	m := make(map[string]any, t.NArr+t.NHash)
	for i := 1; i <= t.NArr; i++ {
		v, err := decodeValue(d, depth+1, whole)
		if err != nil {
			return nil, err
		}
		m[strconv.Itoa(i)] = v
	}
	for i := 0; i < t.NHash; i++ {
		k, err := decodeValue(d, depth+1, whole)
		if err != nil {
			return nil, err
		}
		v, err := decodeValue(d, depth+1, whole)
		if err != nil {
			return nil, err
		}
		m[keyString(k)] = v
	}
	return m, nil
}

// keyString formats a table key the way Lua's tostring would.
func keyString(k any) string {
	switch x := k.(type) {
	case string:
		return x
	case float64:
		if x == float64(int64(x)) {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', 14, 64)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return "nil"
	}
	return fmt.Sprint(k)
}
