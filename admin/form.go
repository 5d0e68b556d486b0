package admin

import (
	"strconv"
	"strings"

	"github.com/luahost/luahost/kongdb/schema"
)

// MaxArgs is how many query or form arguments a request may carry (Kong's
// max_uri_args / max_post_args); more is "Too many arguments".
const MaxArgs = 1000

// Arg is one name=value pair of a query string or form body, in order.
type Arg struct{ Key, Value string }

// formArray is an array being built by DecodeForm (Go slices cannot be
// grown in place inside a map).
type formArray struct{ items []any }

// DecodeForm turns form arguments into nested values the way Kong's
// arguments decoder does: `a.b=1` is {a={b="1"}}, `a[]=x&a[]=y` and
// `a=x&a=y` are {a={"x","y"}}, `a[2]=y` places y second, `a[k]=v` is a map
// entry; a key starting or ending with a dot is taken as it is. Values stay
// strings: Infer gives them the schema's types.
func DecodeForm(args []Arg) map[string]any {
	root := map[string]any{}
	for _, a := range args {
		path := keyPath(a.Key)
		if path == nil {
			combine(root, a.Key, a.Value)
			continue
		}
		insertPath(root, path, a.Value)
	}
	return finish(root).(map[string]any)
}

// keyPath splits "a.b[1][]" into {"a","b","1",""}; nil when the key has
// no nesting (or is one Kong takes literally).
func keyPath(key string) []string {
	if key == "" || key[0] == '.' || key[len(key)-1] == '.' {
		return nil
	}
	i := strings.IndexAny(key[1:], ".[")
	if i < 0 {
		return nil
	}
	i++
	path := []string{key[:i]}
	rest := key[i:]
	for rest != "" {
		switch rest[0] {
		case '.':
			j := strings.IndexAny(rest[1:], ".[")
			if j < 0 {
				j = len(rest) - 1
			}
			seg := rest[1 : 1+j]
			if seg == "" {
				return nil
			}
			path = append(path, seg)
			rest = rest[1+j:]
		case '[':
			j := strings.IndexByte(rest, ']')
			if j < 0 {
				return nil
			}
			path = append(path, rest[1:j])
			rest = rest[j+1:]
		default:
			return nil
		}
	}
	return path
}

func isIndex(seg string) (int, bool) {
	if seg == "" {
		return 0, true
	}
	n, err := strconv.Atoi(seg)
	if err != nil || n < 1 || n > MaxArgs {
		return 0, false
	}
	return n, true
}

// combine sets m[k] = v, turning a repeated key into an array of its
// values (Kong's arguments combine).
func combine(m map[string]any, k string, v any) {
	old, ok := m[k]
	if !ok {
		m[k] = v
		return
	}
	if arr, ok := old.(*formArray); ok {
		arr.items = append(arr.items, v)
		return
	}
	m[k] = &formArray{items: []any{old, v}}
}

func insertPath(root map[string]any, path []string, value string) {
	var cur any = root
	for i, seg := range path {
		last := i == len(path)-1
		idx, isArr := isIndex(seg)
		switch c := cur.(type) {
		case map[string]any:
			if last {
				combine(c, seg, value)
				return
			}
			next := path[i+1]
			child, ok := c[seg]
			if _, nextArr := isIndex(next); nextArr {
				if _, isA := child.(*formArray); !isA {
					arr := &formArray{}
					if ok {
						arr.items = append(arr.items, child)
					}
					c[seg] = arr
					child = arr
				}
			} else if _, isM := child.(map[string]any); !isM {
				child = map[string]any{}
				c[seg] = child
			}
			cur = child
		case *formArray:
			if !isArr {
				// a name after an array index: the element is a map
				idx = 1
			}
			if last {
				// table.insert(container, index, value): shifts what is there
				if idx == 0 || idx > len(c.items) {
					c.items = append(c.items, value)
				} else {
					c.items = append(c.items, nil)
					copy(c.items[idx:], c.items[idx-1:])
					c.items[idx-1] = value
				}
				return
			}
			if idx == 0 {
				idx = len(c.items) + 1
			}
			if idx > len(c.items) {
				c.items = append(c.items, map[string]any{})
				idx = len(c.items)
			}
			el, ok := c.items[idx-1].(map[string]any)
			if !ok {
				el = map[string]any{}
				c.items[idx-1] = el
			}
			cur = el
		}
	}
}

func finish(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = finish(e)
		}
		return x
	case *formArray:
		out := make([]any, len(x.items))
		for i, e := range x.items {
			out[i] = finish(e)
		}
		return out
	}
	return v
}

// Infer gives form and query values the types of the schema's fields
// (Kong's arguments infer): "" is null, numbers, booleans, a single value
// of an array field an array, records and foreign keys field by field.
// The plugins entity's config takes the fields of the plugin named in args.
func Infer(args map[string]any, s *schema.Schema) map[string]any {
	if s == nil || args == nil {
		return args
	}
	for _, f := range s.FieldsFor(args) {
		if v, ok := args[f.Name]; ok {
			args[f.Name] = inferValue(v, f)
		}
	}
	for _, sf := range s.ShorthandFields {
		if v, ok := args[sf.Field.Name]; ok {
			args[sf.Field.Name] = inferValue(v, sf.Field)
		}
	}
	if s.TTL {
		if str, ok := args["ttl"].(string); ok {
			if n, err := strconv.ParseFloat(str, 64); err == nil {
				args["ttl"] = n
			}
		}
	}
	return args
}

func inferValue(v any, f *schema.Field) any {
	if f == nil {
		return v
	}
	if str, ok := v.(string); ok && str == "" {
		return schema.Null
	}
	switch f.Type {
	case schema.TypeNumber, schema.TypeInteger:
		if str, ok := v.(string); ok {
			if n, err := strconv.ParseFloat(strings.TrimSpace(str), 64); err == nil {
				return n
			}
		}
	case schema.TypeBoolean:
		switch v {
		case "true":
			return true
		case "false":
			return false
		}
	case schema.TypeArray, schema.TypeSet:
		arr, ok := v.([]any)
		if !ok {
			arr = []any{v}
		}
		for i, e := range arr {
			arr[i] = inferValue(e, f.Elements)
		}
		return arr
	case schema.TypeForeign:
		if m, ok := v.(map[string]any); ok && f.RefSchema != nil {
			return Infer(m, f.RefSchema)
		}
	case schema.TypeMap:
		if m, ok := v.(map[string]any); ok {
			for k, e := range m {
				m[k] = inferValue(e, f.Values)
			}
		}
	case schema.TypeRecord:
		if m, ok := v.(map[string]any); ok && !f.Abstract {
			for _, sub := range f.Fields {
				if e, ok := m[sub.Name]; ok {
					m[sub.Name] = inferValue(e, sub)
				}
			}
		}
	}
	return v
}
