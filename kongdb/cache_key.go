package kongdb

import (
	"context"
	"strings"
	"unsafe"

	"github.com/luahost/luahost/kongdb/schema"
)

// CacheKey is dao:cache_key(key, a2, a3, a4, a5, ws_id): always seven
// colon-separated segments, `<name>:<v1>:<v2>:<v3>:<v4>:<v5>:<ws_id>`.
//
// A string key takes the fast path: args fill v2..v5 and args[4] is an
// explicit ws_id (nil/Null = empty, then the current workspace for
// workspaceable entities). A table key takes the values of the schema's
// cache_key fields (foreign ones by id), or the primary key when none is
// set, and its own ws_id when it has one.
func (d *DAO) CacheKey(ctx context.Context, key any, args ...any) (string, error) {
	ws, err := d.cacheKeyWorkspace(ctx, args)
	if err != nil {
		return "", err
	}
	switch k := key.(type) {
	case string:
		b := appendStringCacheKey(make([]byte, 0, len(d.Schema.Name)+len(k)+len(ws)+8), d.Schema.Name, k, args, ws)
		// b is not written again: the string shares its bytes, as
		// strings.Builder's does
		return unsafe.String(unsafe.SliceData(b), len(b)), nil
	case map[string]any:
		return d.entityCacheKey(k, ws), nil
	}
	if isNumber(key) {
		// Lua's string.format("%s") accepts numbers too.
		return d.CacheKey(ctx, segment(key), args...)
	}
	return "", argErr("key must be a string or an entity table")
}

// AppendStringCacheKey appends to dst what CacheKey answers for a string
// key: the request path's dao:cache_key(string) builds into a buffer it
// reuses (no allocation when dst has room).
func (d *DAO) AppendStringCacheKey(ctx context.Context, dst []byte, key string, args ...any) ([]byte, error) {
	ws, err := d.cacheKeyWorkspace(ctx, args)
	if err != nil {
		return dst, err
	}
	return appendStringCacheKey(dst, d.Schema.Name, key, args, ws), nil
}

// cacheKeyWorkspace is cache_key's ws_id: args[4] when given, else the
// current workspace for a workspaceable entity.
func (d *DAO) cacheKeyWorkspace(ctx context.Context, args []any) (string, error) {
	if len(args) >= 5 && !isEmpty(args[4]) {
		return segment(args[4]), nil
	}
	if d.Schema.Workspaceable {
		// A failed lookup of the default workspace must not produce a
		// key without ws_id: it would name no cached entity.
		return d.db.currentWorkspace(ctx)
	}
	return "", nil
}

func appendStringCacheKey(b []byte, name, key string, args []any, ws string) []byte {
	b = append(b, name...)
	b = append(b, ':')
	b = append(b, key...)
	for i := 0; i < 4; i++ {
		b = append(b, ':')
		if i < len(args) {
			b = append(b, segment(args[i])...)
		}
	}
	b = append(b, ':')
	return append(b, ws...)
}

// entityCacheKey is the table path of cache_key with ws the workspace to
// use when the entity carries none.
func (d *DAO) entityCacheKey(e Row, ws string) string {
	s := d.Schema
	if w, ok := e["ws_id"].(string); ok && s.Workspaceable {
		ws = w
	}
	vals := make([]string, 0, 5)
	usePK := true
	for _, name := range s.CacheKey {
		v, ok := cacheKeyValue(s, name, e)
		if ok {
			usePK = false
		}
		vals = append(vals, v)
	}
	if usePK {
		vals = vals[:0]
		for _, name := range s.PrimaryKey {
			v, _ := cacheKeyValue(s, name, e)
			vals = append(vals, v)
		}
	}
	var b strings.Builder
	b.WriteString(s.Name)
	for i := 0; i < 5; i++ {
		b.WriteByte(':')
		if i < len(vals) {
			b.WriteString(vals[i])
		}
	}
	b.WriteByte(':')
	b.WriteString(ws)
	return b.String()
}

func cacheKeyValue(s *schema.Schema, name string, e Row) (string, bool) {
	v := e[name]
	if isEmpty(v) {
		return "", false
	}
	if m, ok := v.(map[string]any); ok {
		if f := s.Field(name); f != nil && f.Type == schema.TypeForeign {
			v = m["id"]
			if isEmpty(v) {
				return "", false
			}
		}
	}
	return segment(v), true
}

// segment is Lua's tostring for a cache key segment (nil/Null -> "").
func segment(v any) string {
	switch x := v.(type) {
	case nil, schema.NullType:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "true"
		}
		return "false"
	case float64:
		return FormatNumber(x)
	case int:
		return FormatNumber(float64(x))
	case int64:
		return FormatNumber(float64(x))
	}
	return prettyScalar(v)
}
