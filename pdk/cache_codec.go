package pdk

// Lua values <-> the L2 codec of kongdb/cache, without an intermediate Go
// tree: kong.cache encodes a callback's result straight from gopher-lua
// values and decodes an L2 hit straight into a new Lua value. Worker events
// posted to other workers travel in the same encoding.

import (
	"errors"
	"math"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/kongdb/cache"
	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"
)

// unsupportedType is a value mlcache refuses ("cannot cache value of type
// <t>"); Type is the Lua type name.
type unsupportedType struct{ Type string }

func (e *unsupportedType) Error() string { return "cannot cache value of type " + e.Type }

var errTooDeep = errors.New("cannot cache value: tables nested too deeply (cycle?)")

// maxCacheValue bounds one encoded cache value: a table shared 2^40 ways
// (no cycle, shallow enough) would otherwise encode for ever. freecache
// refuses far smaller values anyway (mem_cache_size/1024).
const maxCacheValue = 64 << 20

var errTooLarge = errors.New("cannot cache value: over 64 MiB encoded")

// encodeLua appends v to e. Functions, userdata (but ngx.null), threads and
// channels are refused, as are tables nested deeper than cache.MaxDepth
// (cycles). Tables carrying cjson.array_mt are flagged as arrays.
func encodeLua(L *lua.LState, e *cache.Encoder, v lua.LValue) error {
	return encodeLuaDepth(L, e, v, 0)
}

func encodeLuaDepth(L *lua.LState, e *cache.Encoder, v lua.LValue, depth int) error {
	switch x := v.(type) {
	case *lua.LNilType:
		e.Nil()
	case lua.LBool:
		e.Bool(bool(x))
	case lua.LNumber:
		e.Number(float64(x))
	case lua.LString:
		e.String(string(x))
	case *lua.LTable:
		if depth >= cache.MaxDepth {
			return errTooDeep
		}
		return encodeTable(L, e, x, depth)
	case *lua.LUserData:
		if bind.IsNull(x) {
			e.Null()
			return nil
		}
		return &unsupportedType{Type: "userdata"}
	default:
		return &unsupportedType{Type: v.Type().String()}
	}
	return nil
}

func encodeTable(L *lua.LState, e *cache.Encoder, t *lua.LTable, depth int) error {
	var flags byte
	if mt, ok := t.Metatable.(*lua.LTable); ok && mt == bind.ArrayMT(L) {
		flags = cache.FlagArray
	}
	if e.Len() > maxCacheValue {
		return errTooLarge
	}
	n := t.Len()
	m := e.BeginTable()
	for i := 1; i <= n; i++ {
		if err := encodeLuaDepth(L, e, t.RawGetInt(i), depth+1); err != nil {
			return err
		}
	}
	nhash := 0
	var err error
	t.ForEach(func(k, val lua.LValue) {
		if err != nil {
			return
		}
		if f, ok := k.(lua.LNumber); ok && f >= 1 && float64(f) <= float64(n) && float64(f) == math.Trunc(float64(f)) {
			return // already written as an array item
		}
		switch k.(type) {
		case lua.LString, lua.LNumber, lua.LBool:
		default:
			err = &unsupportedType{Type: k.Type().String()}
			return
		}
		if err = encodeLuaDepth(L, e, k, depth+1); err != nil {
			return
		}
		if err = encodeLuaDepth(L, e, val, depth+1); err != nil {
			return
		}
		nhash++
	})
	if err != nil {
		return err
	}
	e.EndTable(m, n, nhash, flags)
	return nil
}

// luaDecoder builds Lua values from encoded ones. Short strings are
// interned (already boxed as Lua values): a cached entity's field names,
// and the values of entities read again and again, are allocated once per
// worker instead of once per L2 hit. The table is emptied when full, so it
// follows the working set.
type luaDecoder struct {
	d    cache.Decoder
	keys luavm.Strings // boxed once: returning it does not allocate
}

// maxInterned bounds a decoder's string table; maxInternLen is the longest
// string interned.
const (
	maxInterned  = 4096
	maxInternLen = 64
)

func (ld *luaDecoder) str(b []byte) lua.LValue {
	return ld.keys.Get(b, maxInterned, maxInternLen)
}

// decode builds the Lua value of one whole encoded value in b.
func (ld *luaDecoder) decode(L *lua.LState, b []byte) (lua.LValue, error) {
	ld.d.Reset(b)
	v, err := ld.value(L, 0)
	if err == nil && ld.d.Remaining() != 0 {
		err = cache.ErrCorrupt
	}
	return v, err
}

func (ld *luaDecoder) value(L *lua.LState, depth int) (lua.LValue, error) {
	tok, err := ld.d.Next()
	if err != nil {
		return lua.LNil, err
	}
	switch tok.Kind {
	case cache.KindNil:
		return lua.LNil, nil
	case cache.KindNull:
		return bind.Null(L), nil
	case cache.KindBool:
		return lua.LBool(tok.Bool), nil
	case cache.KindNumber:
		return lua.LNumber(tok.Num), nil
	case cache.KindString:
		return ld.str(tok.Str), nil
	case cache.KindTable:
		if depth >= cache.MaxDepth {
			return lua.LNil, cache.ErrCorrupt
		}
		t := L.CreateTable(tok.NArr, tok.NHash)
		for i := 1; i <= tok.NArr; i++ {
			v, err := ld.value(L, depth+1)
			if err != nil {
				return lua.LNil, err
			}
			if v != lua.LNil {
				t.RawSetInt(i, v)
			}
		}
		for i := 0; i < tok.NHash; i++ {
			k, err := ld.value(L, depth+1)
			if err != nil {
				return lua.LNil, err
			}
			v, err := ld.value(L, depth+1)
			if err != nil {
				return lua.LNil, err
			}
			if k != lua.LNil {
				t.RawSet(k, v)
			}
		}
		if tok.Flags&cache.FlagArray != 0 {
			t.Metatable = bind.ArrayMT(L)
		}
		return t, nil
	}
	return lua.LNil, cache.ErrCorrupt
}
