package bind

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/kongdb/schema"
)

// MaxDepth bounds conversions of nested tables (cycles, runaway nesting);
// bindings that walk Lua tables themselves use the same bound.
const MaxDepth = 64

// MaxRecursion bounds Go walks that stand in for a recursive Lua function
// (Kong's, inspect.lua's): past it they end as that function would in this
// host, whose Lua stops at 256 nested calls, with Lua's "stack overflow";
// the Go stack is never what stops them.
const MaxRecursion = 200

// FuncNamer turns a Lua function met at path (e.g. "fields.key.custom_validator")
// into a *schema.Func; nil makes functions an error.
type FuncNamer func(path string, fn lua.LValue) *schema.Func

// ArrayMTKey is the registry key under which cjson.array_mt is kept, so the
// bridge can tell an empty array from an empty object.
const ArrayMTKey = "luahost.array_mt"

// ArrayMT returns the state's cjson.array_mt.
func ArrayMT(L *lua.LState) *lua.LTable {
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	if t, ok := reg.RawGetString(ArrayMTKey).(*lua.LTable); ok {
		return t
	}
	t := L.NewTable()
	t.RawSetString("__name", lua.LString("array"))
	reg.RawSetString(ArrayMTKey, t)
	return t
}

// ToValue converts a Lua value into the value model of kongdb/schema:
// nil -> nil, ngx.null -> schema.Null, numbers -> float64, sequences (or
// tables with cjson.array_mt) -> []any, other tables -> map[string]any.
func ToValue(L *lua.LState, v lua.LValue, funcs FuncNamer) (any, error) {
	nodes := 0
	return toValue(L, v, funcs, "", 0, &nodes)
}

// MaxValues bounds the values one conversion visits: a table reached by
// many paths (t = {t, t} forty times, no cycle) is visited once per path.
const MaxValues = 1 << 20

func toValue(L *lua.LState, v lua.LValue, funcs FuncNamer, path string, depth int, nodes *int) (any, error) {
	if depth > MaxDepth {
		return nil, fmt.Errorf("%s: table nested too deeply (cycle?)", orRoot(path))
	}
	if *nodes++; *nodes > MaxValues {
		return nil, fmt.Errorf("%s: table too large (over %d values)", orRoot(path), MaxValues)
	}
	switch x := v.(type) {
	case *lua.LNilType:
		return nil, nil
	case lua.LBool:
		return bool(x), nil
	case lua.LNumber:
		return float64(x), nil
	case lua.LString:
		return string(x), nil
	case *lua.LFunction:
		if funcs == nil {
			return nil, fmt.Errorf("%s: cannot convert a function", orRoot(path))
		}
		return funcs(path, x), nil
	case *lua.LUserData:
		if IsNull(x) {
			return schema.Null, nil
		}
		if funcs != nil {
			if f, ok := x.Value.(*schema.Func); ok {
				return f, nil
			}
		}
		return nil, fmt.Errorf("%s: cannot convert a userdata", orRoot(path))
	case *lua.LTable:
		return tableToValue(L, x, funcs, path, depth, nodes)
	}
	return nil, fmt.Errorf("%s: cannot convert a %s", orRoot(path), v.Type())
}

func orRoot(p string) string {
	if p == "" {
		return "value"
	}
	return p
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func tableToValue(L *lua.LState, t *lua.LTable, funcs FuncNamer, path string, depth int, nodes *int) (any, error) {
	n := t.Len()
	isArray := n > 0
	if isArray {
		// A sequence has only keys 1..n.
		count := 0
		t.ForEach(func(k, _ lua.LValue) {
			count++
		})
		isArray = count == n
	}
	if !isArray && n == 0 {
		if mt, ok := L.GetMetatable(t).(*lua.LTable); ok && mt == ArrayMT(L) {
			return []any{}, nil
		}
	}
	if isArray {
		out := make([]any, n)
		for i := 1; i <= n; i++ {
			e, err := toValue(L, t.RawGetInt(i), funcs, join(path, strconv.Itoa(i)), depth+1, nodes)
			if err != nil {
				return nil, err
			}
			out[i-1] = e
		}
		return out, nil
	}
	out := make(map[string]any)
	var err error
	t.ForEach(func(k, val lua.LValue) {
		if err != nil {
			return
		}
		var key string
		switch kk := k.(type) {
		case lua.LString:
			key = string(kk)
		case lua.LNumber:
			key = FormatNumber(float64(kk))
		default:
			err = fmt.Errorf("%s: table key of type %s", orRoot(path), k.Type())
			return
		}
		var e any
		e, err = toValue(L, val, funcs, join(path, key), depth+1, nodes)
		if err == nil {
			out[key] = e
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// FormatNumber prints a number as Lua's tostring does.
func FormatNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 14, 64)
}

// FuncResolver maps a *schema.Func back to this state's Lua function.
type FuncResolver func(f *schema.Func) lua.LValue

// FromValue converts a value-model value into Lua. Arrays get
// cjson.array_mt, as Kong's process_auto_fields gives them; map keys are
// set in sorted order so that iteration is reproducible.
func FromValue(L *lua.LState, v any, funcs FuncResolver) lua.LValue {
	switch x := v.(type) {
	case nil:
		return lua.LNil
	case schema.NullType:
		return Null(L)
	case bool:
		return lua.LBool(x)
	case float64:
		return lua.LNumber(x)
	case int:
		return lua.LNumber(x)
	case int64:
		return lua.LNumber(x)
	case string:
		return lua.LString(x)
	case []any:
		t := L.CreateTable(len(x), 0)
		for i, e := range x {
			t.RawSetInt(i+1, FromValue(L, e, funcs))
		}
		L.SetMetatable(t, ArrayMT(L))
		return t
	case []string:
		t := L.CreateTable(len(x), 0)
		for i, e := range x {
			t.RawSetInt(i+1, lua.LString(e))
		}
		L.SetMetatable(t, ArrayMT(L))
		return t
	case map[string]any:
		t := L.CreateTable(0, len(x))
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			t.RawSetString(k, FromValue(L, x[k], funcs))
		}
		return t
	case *schema.Func:
		if funcs != nil {
			return funcs(x)
		}
		return lua.LNil
	}
	return lua.LString(fmt.Sprint(v))
}
