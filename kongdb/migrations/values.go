package migrations

import "github.com/luahost/luahost/kongdb/schema"

// jsonNulls replaces schema.Null by nil, recursively, for encoding/json.
func jsonNulls(v any) any {
	switch t := v.(type) {
	case schema.NullType:
		return nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = jsonNulls(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = jsonNulls(e)
		}
		return out
	}
	return v
}
