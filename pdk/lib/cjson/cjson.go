// Package cjson is the modules cjson and cjson.safe. They follow
// OpenResty's lua-cjson 2.1.0.x as Kong runs it (cjson.safe with Kong's
// globalpatches applied): null is ngx.null, empty tables encode as "{}"
// unless marked with array_mt / empty_array_mt (or
// encode_empty_table_as_object(false)), "/" is escaped as "\/", numbers
// print with %.14g, and the error messages are lua-cjson's. Each module
// (and each cjson.new()) has its own settings. Encoding lives in cjson.go,
// decoding in decode.go.
//
// Go bindings that speak JSON to Lua values (kong.response.exit's body,
// kong.request.get_body) use a Codec of their own.
package cjson

import (
	"math"
	"strconv"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/pdk/bind"
)

// maxDepth caps encode_max_depth and decode_max_depth whatever the
// setting: each level is a Go stack frame, and a cyclic table encoded with
// encode_max_depth(2^31-1) would overflow Go's stack (a fatal error).
const maxDepth = 65535

const (
	version       = "2.1.0.14"
	emptyArrayKey = "luahost.cjson.empty_array"
	emptyArrMTKey = "luahost.cjson.empty_array_mt"
)

// Codec is one module instance's settings plus its encode buffer: what
// cjson.encode and cjson.decode use, for Lua or for Go callers. A Codec
// belongs to one state.
type Codec struct {
	budget          *bind.Budget // what encode charges (nil: nothing)
	safe            bool
	emptyAsObject   bool
	escapeSlash     bool
	precision       int
	decodeArrayMT   bool
	sparseConvert   bool
	sparseRatio     int
	sparseSafe      int
	encodeMaxDepth  int
	decodeMaxDepth  int
	encodeInvalid   bool
	keepBuffer      bool
	buf             []byte
	scratch         []lua.LValue // decode's reusable item stack
	arrayMT         *lua.LTable
	emptyArrayMT    *lua.LTable
	emptyArray      *lua.LUserData
	null            *lua.LUserData
	cachedPrecision string
	limit           int // the longest text this encode may produce
}

// NewCodec returns a codec with lua-cjson's default settings (safe:
// cjson.safe's, which returns errors instead of raising them) whose
// encodings are charged to budget.
func NewCodec(L *lua.LState, budget *bind.Budget, safe bool) *Codec {
	return &Codec{
		budget: budget, safe: safe, emptyAsObject: true, escapeSlash: true, precision: 14,
		sparseRatio: 2, sparseSafe: 10, encodeMaxDepth: 1000, decodeMaxDepth: 1000,
		keepBuffer: true,
		arrayMT:    bind.ArrayMT(L), emptyArrayMT: EmptyArrayMT(L), emptyArray: EmptyArray(L), null: bind.Null(L),
	}
}

// EmptyArrayMT returns the state's cjson.empty_array_mt.
func EmptyArrayMT(L *lua.LState) *lua.LTable {
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	if t, ok := reg.RawGetString(emptyArrMTKey).(*lua.LTable); ok {
		return t
	}
	t := L.NewTable()
	reg.RawSetString(emptyArrMTKey, t)
	return t
}

type emptyArrayValue struct{}

// EmptyArray returns the state's cjson.empty_array (encodes as "[]").
func EmptyArray(L *lua.LState) *lua.LUserData {
	reg := L.Get(lua.RegistryIndex).(*lua.LTable)
	if ud, ok := reg.RawGetString(emptyArrayKey).(*lua.LUserData); ok {
		return ud
	}
	ud := L.NewUserData()
	ud.Value = emptyArrayValue{}
	reg.RawSetString(emptyArrayKey, ud)
	return ud
}

// NewKongCodec returns the codec of cjson.safe as Kong's globalpatches
// (kong/globalpatches.lua) leave it: 16 digits, sparse arrays accepted up
// to index 2^15.
func NewKongCodec(L *lua.LState, budget *bind.Budget) *Codec {
	c := NewCodec(L, budget, true)
	c.precision = 16
	c.sparseSafe = 1 << 15
	return c
}

// DecodeArrayWithArrayMT is decode_array_with_array_mt(on): decoded
// arrays get cjson.array_mt (so an empty one encodes back as "[]").
func (c *Codec) DecodeArrayWithArrayMT(on bool) { c.decodeArrayMT = on }

// Open registers the preloaded modules "cjson" and "cjson.safe" in L;
// encodings are charged to budget.
func Open(L *lua.LState, budget *bind.Budget) {
	L.PreloadModule("cjson", func(L *lua.LState) int {
		L.Push(newModule(L, NewCodec(L, budget, false)))
		return 1
	})
	L.PreloadModule("cjson.safe", func(L *lua.LState) int {
		L.Push(newModule(L, NewKongCodec(L, budget)))
		return 1
	})
}

// newModule is a cjson module table working with c.
func newModule(L *lua.LState, c *Codec) *lua.LTable {
	m := L.NewTable()
	boolSetting := func(p *bool) lua.LGFunction {
		return func(L *lua.LState) int {
			switch v := L.Get(1).(type) {
			case lua.LBool:
				*p = bool(v)
			case lua.LString:
				switch v {
				case "on", "true":
					*p = true
				case "off", "false":
					*p = false
				default:
					L.ArgError(1, "invalid option '"+string(v)+"'")
				}
			case lua.LNumber:
				*p = v != 0
			case *lua.LNilType:
			default:
				L.ArgError(1, "boolean expected")
			}
			L.Push(lua.LBool(*p))
			return 1
		}
	}
	intSetting := func(p *int, lo, hi int) lua.LGFunction {
		return func(L *lua.LState) int {
			if L.Get(1) != lua.LNil {
				n := L.CheckInt(1)
				if n < lo || n > hi {
					L.ArgError(1, "expected integer between "+strconv.Itoa(lo)+" and "+strconv.Itoa(hi))
				}
				*p = n
			}
			L.Push(lua.LNumber(*p))
			return 1
		}
	}
	L.SetFuncs(m, map[string]lua.LGFunction{
		"encode":                       c.luaEncode,
		"decode":                       c.luaDecode,
		"new":                          func(L *lua.LState) int { L.Push(newModule(L, NewCodec(L, c.budget, c.safe))); return 1 },
		"encode_empty_table_as_object": boolSetting(&c.emptyAsObject),
		"decode_array_with_array_mt":   boolSetting(&c.decodeArrayMT),
		"encode_escape_forward_slash":  boolSetting(&c.escapeSlash),
		"encode_keep_buffer":           boolSetting(&c.keepBuffer),
		"encode_invalid_numbers":       boolSetting(&c.encodeInvalid),
		"decode_invalid_numbers":       func(L *lua.LState) int { L.Push(lua.LTrue); return 1 },
		"encode_number_precision":      intSetting(&c.precision, 1, 16),
		"encode_max_depth":             intSetting(&c.encodeMaxDepth, 1, math.MaxInt32),
		"decode_max_depth":             intSetting(&c.decodeMaxDepth, 1, math.MaxInt32),
		"encode_sparse_array": func(L *lua.LState) int {
			// a nil argument keeps the current setting
			if L.Get(1) != lua.LNil {
				c.sparseConvert = L.ToBool(1)
			}
			if L.Get(2) != lua.LNil {
				c.sparseRatio = L.CheckInt(2)
			}
			if L.Get(3) != lua.LNil {
				c.sparseSafe = L.CheckInt(3)
			}
			L.Push(lua.LBool(c.sparseConvert))
			L.Push(lua.LNumber(c.sparseRatio))
			L.Push(lua.LNumber(c.sparseSafe))
			return 3
		},
	})
	m.RawSetString("null", c.null)
	m.RawSetString("empty_array", c.emptyArray)
	m.RawSetString("array_mt", c.arrayMT)
	m.RawSetString("empty_array_mt", c.emptyArrayMT)
	m.RawSetString("_NAME", lua.LString("cjson"))
	m.RawSetString("_VERSION", lua.LString(version))
	return m
}

// Error is an encode/decode failure with lua-cjson's message ("": none).
type Error string

func (c *Codec) fail(L *lua.LState, msg string) int {
	if c.safe {
		return bind.Fail(L, msg)
	}
	L.Error(lua.LString(msg), 0)
	return 0
}

func (c *Codec) luaEncode(L *lua.LState) int {
	if L.GetTop() != 1 {
		L.ArgError(1, "expected 1 argument")
	}
	out, err := c.Encode(L.Get(1))
	if err == ErrTooBig {
		L.RaiseError(bind.ErrNoMemory)
	}
	if err != "" {
		return c.fail(L, string(err))
	}
	L.Push(lua.LString(out))
	return 1
}

// ErrTooBig is Encode's answer for an encoding whose text outgrew the
// memory budget (a sparse array of 2^40 nulls, a table referenced a million
// times): the binding raises "not enough memory" for it, in cjson and cjson.safe alike,
// as lua-cjson does when its buffer cannot grow.
const ErrTooBig Error = "\x00too big"

// Encode serialises v as lua-cjson would with this instance's settings.
func (c *Codec) Encode(v lua.LValue) (string, Error) {
	c.limit = int(c.budget.Left())
	b := c.buf[:0]
	b, err := c.encode(b, v, 0)
	if err == "" && !c.budget.Fits(int64(len(b))) {
		err = ErrTooBig
	}
	if c.keepBuffer && cap(b) <= 1<<16 {
		c.buf = b
	}
	if err != "" {
		return "", err
	}
	return string(b), ""
}

func (c *Codec) appendNumber(b []byte, f float64) ([]byte, Error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		if !c.encodeInvalid {
			return b, "Cannot serialise number: must not be NaN or Infinity"
		}
		switch {
		case math.IsNaN(f):
			return append(b, "nan"...), ""
		case f > 0:
			return append(b, "inf"...), ""
		}
		return append(b, "-inf"...), ""
	}
	if c.precision >= 14 && f == math.Trunc(f) && math.Abs(f) < 1e14 && !(f == 0 && math.Signbit(f)) {
		return strconv.AppendInt(b, int64(f), 10), ""
	}
	return strconv.AppendFloat(b, f, 'g', c.precision, 64), ""
}

const hexDigitsLower = "0123456789abcdef"

func (c *Codec) appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		ch := s[i]
		var esc string
		switch {
		case ch == '"':
			esc = `\"`
		case ch == '\\':
			esc = `\\`
		case ch == '/':
			if !c.escapeSlash {
				continue
			}
			esc = `\/`
		case ch == '\n':
			esc = `\n`
		case ch == '\r':
			esc = `\r`
		case ch == '\t':
			esc = `\t`
		case ch == '\b':
			esc = `\b`
		case ch == '\f':
			esc = `\f`
		case ch < 0x20 || ch == 0x7f:
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '0', '0', hexDigitsLower[ch>>4], hexDigitsLower[ch&0xf])
			start = i + 1
			continue
		default:
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, esc...)
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func (c *Codec) encode(b []byte, v lua.LValue, depth int) ([]byte, Error) {
	switch x := v.(type) {
	case *lua.LNilType:
		return append(b, "null"...), ""
	case lua.LBool:
		if x {
			return append(b, "true"...), ""
		}
		return append(b, "false"...), ""
	case lua.LNumber:
		return c.appendNumber(b, float64(x))
	case lua.LString:
		return c.appendString(b, string(x)), ""
	case *lua.LUserData:
		if bind.IsNull(x) {
			return append(b, "null"...), ""
		}
		if _, ok := x.Value.(emptyArrayValue); ok {
			return append(b, "[]"...), ""
		}
		return b, "Cannot serialise userdata: type not supported"
	case *lua.LTable:
		return c.encodeTable(b, x, depth+1)
	}
	return b, Error("Cannot serialise " + v.Type().String() + ": type not supported")
}

// arrayLength is lua-cjson's lua_array_length: the highest key when every
// key is a positive integer (0 for an empty table), -1 for an object; a
// sparse array is an error unless encode_sparse_array converts it.
func (c *Codec) arrayLength(t *lua.LTable) (int, Error) {
	max, items := 0, 0
	object := false
	t.ForEach(func(k, _ lua.LValue) {
		if object {
			return
		}
		n, ok := k.(lua.LNumber)
		if !ok || float64(n) < 1 || float64(n) != math.Floor(float64(n)) {
			object = true
			return
		}
		if int(n) > max {
			max = int(n)
		}
		items++
	})
	if object {
		return -1, ""
	}
	if c.sparseRatio > 0 && max > items*c.sparseRatio && max > c.sparseSafe {
		if !c.sparseConvert {
			return 0, "Cannot serialise table: excessively sparse array"
		}
		return -1, ""
	}
	return max, ""
}

func (c *Codec) encodeTable(b []byte, t *lua.LTable, depth int) ([]byte, Error) {
	if depth > min(c.encodeMaxDepth, maxDepth) {
		return b, Error("Cannot serialise, excessive nesting (" + strconv.Itoa(depth) + ")")
	}
	var n int
	mt, _ := t.Metatable.(*lua.LTable)
	switch {
	case mt != nil && (mt == c.arrayMT || mt == c.emptyArrayMT):
		n = t.Len()
		if n == 0 {
			return append(b, "[]"...), ""
		}
	default:
		var err Error
		if n, err = c.arrayLength(t); err != "" {
			return b, err
		}
		if n == 0 {
			if c.emptyAsObject {
				return append(b, "{}"...), ""
			}
			return append(b, "[]"...), ""
		}
	}
	var err Error
	if n > 0 {
		if n > c.limit-len(b) {
			// at least one byte per element
			return b, ErrTooBig
		}
		b = append(b, '[')
		for i := 1; i <= n; i++ {
			if i > 1 {
				b = append(b, ',')
			}
			if b, err = c.encode(b, t.RawGetInt(i), depth); err != "" {
				return b, err
			}
			if len(b) > c.limit {
				return b, ErrTooBig
			}
		}
		return append(b, ']'), ""
	}
	b = append(b, '{')
	first := true
	k, v := t.Next(lua.LNil)
	for k != lua.LNil {
		if !first {
			b = append(b, ',')
		}
		first = false
		switch kk := k.(type) {
		case lua.LString:
			b = c.appendString(b, string(kk))
		case lua.LNumber:
			b = append(b, '"')
			b, _ = c.appendNumber(b, float64(kk))
			b = append(b, '"')
		default:
			return b, "Cannot serialise table: table key must be a number or string"
		}
		b = append(b, ':')
		if b, err = c.encode(b, v, depth); err != "" {
			return b, err
		}
		if len(b) > c.limit {
			return b, ErrTooBig
		}
		k, v = t.Next(k)
	}
	return append(b, '}'), ""
}
