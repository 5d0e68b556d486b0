package cjson

import (
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
)

// Decoding reads encoding/json's token stream (document order, so decoded
// objects iterate in the order their keys were written). Differences from
// lua-cjson: invalid UTF-8 inside strings becomes U+FFFD, and the
// non-standard numbers lua-cjson accepts (hex, inf, nan) are rejected.

func (c *Codec) luaDecode(L *lua.LState) int {
	if L.GetTop() != 1 {
		L.ArgError(1, "expected 1 argument")
	}
	s := luavm.CheckString(L, 1)
	v, err := c.Decode(L, s)
	if err == ErrStopped {
		// the worker's deadline passed: not a decoding error cjson.safe
		// could return, the call is over
		L.RaiseError("%s", L.Context().Err())
	}
	if err != "" {
		return c.fail(L, string(err))
	}
	L.Push(v)
	return 1
}

type jsonDecoder struct {
	c     *Codec
	L     *lua.LState
	dec   *json.Decoder
	src   string
	ctx   string // what lua-cjson would be expecting, for EOF messages
	depth int
	vals  []lua.LValue    // scratch stack of pending array items / object pairs
	steps int             // values decoded, to poll the deadline every 1024
	done  <-chan struct{} // the state's context (nil: no deadline)
}

// ErrStopped is Decode's answer when the state's deadline passed
// during a long decode.
const ErrStopped = Error("\x00deadline")

// Decode parses s into Lua values, with lua-cjson's error messages.
func (c *Codec) Decode(L *lua.LState, s string) (lua.LValue, Error) {
	d := &jsonDecoder{c: c, L: L, dec: json.NewDecoder(strings.NewReader(s)), src: s, ctx: "value", vals: c.scratch[:0]}
	if ctx := L.Context(); ctx != nil {
		d.done = ctx.Done()
	}
	defer func() { c.scratch = d.vals[:0] }()
	d.dec.UseNumber()
	tok, err := d.dec.Token()
	if err != nil {
		return nil, d.error(err)
	}
	v, derr := d.value(tok)
	if derr != "" {
		return nil, derr
	}
	// trailing data
	off := int(d.dec.InputOffset())
	rest := strings.TrimLeft(s[off:], " \t\r\n")
	if rest != "" {
		pos := len(s) - len(rest) + 1
		return nil, Error("Expected the end but found " + tokenName(rest) + " at character " + strconv.Itoa(pos))
	}
	return v, ""
}

func (d *jsonDecoder) value(tok json.Token) (lua.LValue, Error) {
	if d.steps++; d.steps&1023 == 0 && d.done != nil {
		select {
		case <-d.done:
			return nil, ErrStopped
		default:
		}
	}
	switch x := tok.(type) {
	case nil:
		return d.c.null, ""
	case bool:
		return lua.LBool(x), ""
	case string:
		return lua.LString(x), ""
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, Error("Expected value but found invalid number at character " + strconv.Itoa(int(d.dec.InputOffset())))
		}
		return lua.LNumber(f), ""
	case json.Delim:
		d.depth++
		if d.depth > min(d.c.decodeMaxDepth, maxDepth) {
			return nil, Error("Found too many nested data structures (" + strconv.Itoa(d.depth) + ") at character " + strconv.Itoa(int(d.dec.InputOffset())))
		}
		defer func() { d.depth-- }()
		if x == '[' {
			return d.array()
		}
		return d.object()
	}
	return nil, "Expected value but found invalid token at character 1"
}

// array and object gather their items on a scratch stack shared by the
// whole decode, then build each table at its final size: gopher-lua's
// NewTable preallocates 32 array and 32 hash slots, which dominated decoding.
func (d *jsonDecoder) array() (lua.LValue, Error) {
	base := len(d.vals)
	for i := 1; ; i++ {
		d.ctx = "value"
		if i > 1 {
			d.ctx = "comma or array end"
		}
		tok, err := d.dec.Token()
		if err != nil {
			return nil, d.error(err)
		}
		if tok == json.Delim(']') {
			break
		}
		v, derr := d.value(tok)
		if derr != "" {
			return nil, derr
		}
		d.vals = append(d.vals, v)
	}
	items := d.vals[base:]
	t := d.L.CreateTable(len(items), 0)
	for _, v := range items {
		t.Append(v)
	}
	clear(items)
	d.vals = d.vals[:base]
	if d.c.decodeArrayMT {
		t.Metatable = d.c.arrayMT
	}
	return t, ""
}

func (d *jsonDecoder) object() (lua.LValue, Error) {
	base := len(d.vals)
	for i := 0; ; i++ {
		d.ctx = "object key string"
		if i > 0 {
			d.ctx = "comma or object end"
		}
		tok, err := d.dec.Token()
		if err != nil {
			return nil, d.error(err)
		}
		if tok == json.Delim('}') {
			break
		}
		key, _ := tok.(string)
		d.ctx = "colon"
		tok, err = d.dec.Token()
		if err != nil {
			return nil, d.error(err)
		}
		v, derr := d.value(tok)
		if derr != "" {
			return nil, derr
		}
		d.vals = append(d.vals, lua.LString(key), v)
	}
	items := d.vals[base:]
	t := d.L.CreateTable(0, len(items)/2)
	for j := 0; j < len(items); j += 2 {
		t.RawSetString(string(items[j].(lua.LString)), items[j+1])
	}
	clear(items)
	d.vals = d.vals[:base]
	return t, ""
}

// error turns a decoder failure into lua-cjson's message. Syntax errors are
// located by encoding/json's scanner (json.Unmarshal gives the 1-based
// position of the offending byte); the end of input is "T_END" one past the
// last character.
func (d *jsonDecoder) error(err error) Error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		rest := strings.TrimLeft(d.src[min(int(d.dec.InputOffset()), len(d.src)):], " \t\r\n")
		end := strconv.Itoa(len(d.src) + 1)
		if strings.HasPrefix(rest, `"`) {
			return Error("Expected " + d.ctx + " but found unexpected end of string at character " + end)
		}
		ctx := d.ctx
		if ctx == "colon" && strings.HasSuffix(strings.TrimRight(d.src, " \t\r\n"), ":") {
			ctx = "value"
		}
		return Error("Expected " + ctx + " but found T_END at character " + end)
	}
	var se *json.SyntaxError
	if uerr := json.Unmarshal([]byte(d.src), new(any)); !errors.As(uerr, &se) {
		return Error("Expected value but found invalid token at character 1")
	}
	pos := int(se.Offset) // 1-based position of the offending byte
	msg := se.Error()
	expected := d.ctx
	switch {
	case strings.HasSuffix(msg, "looking for beginning of value"):
		expected = "value"
	case strings.HasSuffix(msg, "looking for beginning of object key string"):
		expected = "object key string"
	case strings.HasSuffix(msg, "after object key"):
		expected = "colon"
	case strings.HasSuffix(msg, "after object key:value pair"):
		expected = "comma or object end"
	case strings.HasSuffix(msg, "after array element"):
		expected = "comma or array end"
	case strings.HasSuffix(msg, "after top-level value"):
		expected = "the end"
	case strings.Contains(msg, "in string escape code"), strings.Contains(msg, "in \\u hexadecimal"):
		return Error("Expected " + expected + " but found invalid escape code at character " + strconv.Itoa(pos))
	case strings.Contains(msg, "in string literal"):
		return Error("Expected " + expected + " but found invalid token at character " + strconv.Itoa(pos))
	default:
		// inside a literal or a number: lua-cjson reports the token's start
		start := pos - 1
		for start > 0 && isTokenByte(d.src[start-1]) {
			start--
		}
		if d.ctx == "object key string" || d.ctx == "comma or object end" || d.ctx == "comma or array end" {
			expected = "value"
		}
		return Error("Expected " + expected + " but found invalid token at character " + strconv.Itoa(start+1))
	}
	return Error("Expected " + expected + " but found " + tokenName(d.src[pos-1:]) + " at character " + strconv.Itoa(pos))
}

func isTokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.'
}

// tokenName names the token starting s as lua-cjson's scanner would.
func tokenName(s string) string {
	if s == "" {
		return "T_END"
	}
	switch c := s[0]; {
	case c == '{':
		return "T_OBJ_BEGIN"
	case c == '}':
		return "T_OBJ_END"
	case c == '[':
		return "T_ARR_BEGIN"
	case c == ']':
		return "T_ARR_END"
	case c == ',':
		return "T_COMMA"
	case c == ':':
		return "T_COLON"
	case c == '"':
		return "T_STRING"
	case c == '-' || c >= '0' && c <= '9':
		return "T_NUMBER"
	case strings.HasPrefix(s, "true") || strings.HasPrefix(s, "false"):
		return "T_BOOLEAN"
	case strings.HasPrefix(s, "null"):
		return "T_NULL"
	}
	return "invalid token"
}
