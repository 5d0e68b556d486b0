package kongdb

import (
	"sort"
	"strconv"
	"unicode/utf8"
)

// checkUTF8 refuses an entity holding a string that is not valid UTF-8,
// anywhere: a column, a map key or value, a record, a json value, an
// array element. Kong on PostgreSQL gets the database's refusal
// ("invalid byte sequence for encoding UTF8"); JSON encoding would
// instead replace the bytes with U+FFFD and store something else than
// what was written, and the memory strategy would keep them. One check
// before either strategy makes both refuse alike, naming the field.
func (d *DAO) checkUTF8(e Row) error {
	if validUTF8(map[string]any(e)) {
		return nil
	}
	for _, k := range sortedKeys(e) {
		if path, b, ok := invalidUTF8(k, e[k]); !ok {
			return d.Errors.DatabaseError(`invalid byte sequence for encoding "UTF8": 0x`+
				strconv.FormatUint(uint64(b), 16)+" in '"+path+"'", nil)
		}
	}
	return nil
}

// invalidUTF8 walks v; on the first invalid string it returns its path
// (dotted keys, 1-based [i] indexes) and its first bad byte.
func invalidUTF8(path string, v any) (string, byte, bool) {
	switch t := v.(type) {
	case string:
		if b, ok := firstBadByte(t); !ok {
			return path, b, false
		}
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if b, ok := firstBadByte(k); !ok {
				return path, b, false
			}
			if p, b, ok := invalidUTF8(path+"."+k, t[k]); !ok {
				return p, b, false
			}
		}
	case []any:
		for i, e := range t {
			if p, b, ok := invalidUTF8(path+"["+strconv.Itoa(i+1)+"]", e); !ok {
				return p, b, false
			}
		}
	case []string:
		for i, e := range t {
			if b, ok := firstBadByte(e); !ok {
				return path + "[" + strconv.Itoa(i+1) + "]", b, false
			}
		}
	}
	return "", 0, true
}

// validUTF8 is the allocation-free walk of the common case.
func validUTF8(v any) bool {
	switch t := v.(type) {
	case string:
		return utf8.ValidString(t)
	case map[string]any:
		for k, e := range t {
			if !utf8.ValidString(k) || !validUTF8(e) {
				return false
			}
		}
	case []any:
		for _, e := range t {
			if !validUTF8(e) {
				return false
			}
		}
	case []string:
		for _, e := range t {
			if !utf8.ValidString(e) {
				return false
			}
		}
	}
	return true
}

func firstBadByte(s string) (byte, bool) {
	if utf8.ValidString(s) {
		return 0, true
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return s[i], false
		}
		i += n
	}
	return 0, false
}
