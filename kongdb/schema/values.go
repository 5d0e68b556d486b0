package schema

import (
	"math"
	"sort"
	"strings"
)

// Helpers over the value model (see model.go).

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float32:
		return float64(x), true
	case int32:
		return float64(x), true
	}
	return 0, false
}

// IsInt64 reports whether f is a whole number a BIGINT column stores
// exactly: Kong's integer check (floor(v) == v, not ±inf) bounded to
// [-2^63, 2^63), since PostgreSQL refuses anything wider.
func IsInt64(f float64) bool {
	return f == math.Floor(f) && f >= -(1<<63) && f < 1<<63
}

// asArray returns v as a Lua sequence. An empty map is an empty Lua table,
// which Kong accepts as an empty array.
func asArray(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if e == nil {
				return nil, false // a hole: not a Lua sequence
			}
		}
		return x, true
	case []string:
		return strsToAny(x), true
	case map[string]any:
		if len(x) == 0 {
			return []any{}, true
		}
	}
	return nil, false
}

// asTable returns v as a Lua table with string keys. An empty array is an
// empty Lua table too.
func asTable(v any) (map[string]any, bool) {
	switch x := v.(type) {
	case map[string]any:
		return x, true
	case []any:
		if len(x) == 0 {
			return map[string]any{}, true
		}
	}
	return nil, false
}

func isTable(v any) bool {
	switch v.(type) {
	case map[string]any, []any, []string:
		return true
	}
	return false
}

// IsNonEmpty is Kong's is_nonempty: not nil, not null, not "", not {}.
func IsNonEmpty(v any) bool {
	switch x := v.(type) {
	case nil, NullType:
		return false
	case string:
		return x != ""
	case map[string]any:
		return len(x) > 0
	case []any:
		return len(x) > 0
	case []string:
		return len(x) > 0
	}
	return true
}

// IsReference is kong.vault.is_reference: v is a vault reference
// ("{vault://...}").
func IsReference(v any) bool {
	s, ok := v.(string)
	return ok && len(s) >= 10 && strings.HasPrefix(s, "{vault://") && s[len(s)-1] == '}'
}

// truthy is Lua truthiness.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	}
	return true
}

// luaEqual is Lua's == over the value model: scalars by value, tables by
// identity (two distinct tables are never equal).
func luaEqual(a, b any) bool {
	if fa, ok := toFloat(a); ok {
		fb, ok := toFloat(b)
		return ok && fa == fb
	}
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case NullType:
		return IsNull(b)
	case nil:
		return b == nil
	case *Func:
		y, ok := b.(*Func)
		return ok && x == y
	}
	return false
}

// DeepCopy copies maps and arrays of the value model recursively.
func DeepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return deepCopyMap(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = DeepCopy(e)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	}
	return v
}

func deepCopyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, e := range m {
		out[k] = DeepCopy(e)
	}
	return out
}

// DeepEqual is Penlight's tablex.deepcompare over the value model.
func DeepEqual(a, b any) bool {
	ta, aok := asAnyTable(a)
	tb, bok := asAnyTable(b)
	if aok != bok {
		return false
	}
	if !aok {
		return luaEqual(a, b)
	}
	if len(ta) != len(tb) {
		return false
	}
	for k, va := range ta {
		vb, ok := tb[k]
		if !ok || !DeepEqual(va, vb) {
			return false
		}
	}
	return true
}

// asAnyTable views maps and arrays as one kind of Lua table (index keys as
// "1", "2"...), for comparisons.
func asAnyTable(v any) (map[string]any, bool) {
	switch x := v.(type) {
	case map[string]any:
		return x, true
	case []any:
		m := make(map[string]any, len(x))
		for i, e := range x {
			m[itoa(i+1)] = e
		}
		return m, true
	case []string:
		return asAnyTable(strsToAny(x))
	}
	return nil, false
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// compareNoOrder is Penlight's tablex.compare_no_order for arrays.
func compareNoOrder(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	used := make([]bool, len(b))
outer:
	for _, va := range a {
		for j, vb := range b {
			if !used[j] && DeepEqual(va, vb) {
				used[j] = true
				continue outer
			}
		}
		return false
	}
	return true
}

// GetPath is Kong's get_field: t["x.y.z"] as t.x.y.z.
func GetPath(t map[string]any, name string) any {
	if t == nil {
		return nil
	}
	hd, tl, dotted := strings.Cut(name, ".")
	if !dotted {
		return t[name]
	}
	sub, ok := asTable(t[hd])
	if !ok {
		return nil
	}
	return GetPath(sub, tl)
}

// SetPath is Kong's set_field, creating intermediate tables; setting nil
// removes the key, as in Lua.
func SetPath(t map[string]any, name string, v any) {
	hd, tl, dotted := strings.Cut(name, ".")
	if !dotted {
		if v == nil {
			delete(t, name)
		} else {
			t[name] = v
		}
		return
	}
	sub, ok := t[hd].(map[string]any)
	if !ok {
		if t[hd] != nil {
			return // Kong would raise indexing a non-table; keep the first error
		}
		sub = map[string]any{}
		t[hd] = sub
	}
	SetPath(sub, tl, v)
}

func sortedMapKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// stringList reads a list of names from the value model.
func stringList(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case string:
		return []string{x}
	}
	return nil
}

// JSONReady returns v with every Null replaced by nil, recursively, so
// encoding/json writes JSON null for it.
func JSONReady(v any) any {
	switch t := v.(type) {
	case NullType:
		return nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = JSONReady(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = JSONReady(e)
		}
		return out
	}
	return v
}
