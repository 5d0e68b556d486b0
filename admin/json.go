package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/luahost/luahost/kongdb/schema"
)

// MaxJSONDepth is how deeply a JSON body may nest (cjson's
// decode_max_depth default, which Kong keeps).
const MaxJSONDepth = 1000

// errBadJSON is any body Kong's lapis json_params cannot decode.
var errBadJSON = errors.New("Cannot parse JSON body")

// DecodeJSON decodes a request body into the value model of kongdb/schema
// (numbers float64, null schema.Null). The body must be one JSON object,
// nested at most MaxJSONDepth deep.
func DecodeJSON(body []byte) (map[string]any, error) {
	if err := checkDepth(body, MaxJSONDepth); err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, errBadJSON
	}
	if d.More() {
		return nil, errBadJSON
	}
	// trailing garbage after the value
	var extra any
	if err := d.Decode(&extra); err == nil {
		return nil, errBadJSON
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errBadJSON
	}
	out, err := fromJSON(m)
	if err != nil {
		return nil, err
	}
	return out.(map[string]any), nil
}

func fromJSON(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return schema.Null, nil
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, errBadJSON
		}
		return f, nil
	case map[string]any:
		for k, e := range x {
			c, err := fromJSON(e)
			if err != nil {
				return nil, err
			}
			x[k] = c
		}
		return x, nil
	case []any:
		for i, e := range x {
			c, err := fromJSON(e)
			if err != nil {
				return nil, err
			}
			x[i] = c
		}
		return x, nil
	}
	return v, nil
}

// checkDepth refuses JSON nested deeper than max before any decoding (Go's
// decoder would otherwise recurse as deep as the body goes).
func checkDepth(b []byte, max int) error {
	depth, inStr, esc := 0, false, false
	for _, c := range b {
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			depth++
			if depth > max {
				return errBadJSON
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// AppendJSON encodes v (the value model: nil and schema.Null as null,
// numbers as Lua prints them, maps with sorted keys) as cjson does.
func AppendJSON(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil, schema.NullType:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, x)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return append(b, "null"...)
		}
		return append(b, cjsonNumber(x)...)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case string:
		return appendString(b, x)
	case []byte:
		return appendString(b, string(x))
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendJSON(b, e)
		}
		return append(b, ']')
	case []map[string]any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendJSON(b, e)
		}
		return append(b, ']')
	case []string:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, e)
		}
		return append(b, ']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = AppendJSON(b, x[k])
		}
		return append(b, '}')
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, s := range x {
			m[k] = s
		}
		return AppendJSON(b, m)
	case *schema.Func:
		return append(b, "null"...)
	}
	// anything else: encoding/json's view of it
	j, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, j...)
}

const hexDigits = "0123456789abcdef"

func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			// invalid UTF-8 is passed through as cjson does, escaped so the
			// output stays valid JSON text
			b = append(b, `\ufffd`...)
			i++
			continue
		}
		b = append(b, s[i:i+size]...)
		i += size
	}
	return append(b, '"')
}

// cjsonNumber is a number as Kong's cjson writes it: encode_number_precision
// 16 (CJSON_MAX_PRECISION, set by Kong's globalpatches), C's "%.16g", so
// integers up to 2^53 are exact.
func cjsonNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e16 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 16, 64)
}
