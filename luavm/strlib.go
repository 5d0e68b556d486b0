package luavm

import (
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// luahost's Lua 5.1 string library: gopher-lua's find, match, gmatch, gsub,
// format, rep, sub, upper, lower, len, byte, char and reverse replaced by
// functions that follow Lua 5.1 (numbers as %.14g, find's init, errors),
// stop at the state's deadline while matching, and build their results in
// one buffer (gsub is linear in its output).

// DefaultMaxStringSize bounds the strings string.rep and string.gsub build
// unless SetMaxStringSize says otherwise: beyond it they raise "not enough
// memory", as Lua does when an allocation fails.
const DefaultMaxStringSize = 1 << 30

const maxStringKey = "luavm.maxstring"

// SetMaxStringSize sets the largest string string.rep and string.gsub may
// build in L's global state (n <= 0: DefaultMaxStringSize).
func SetMaxStringSize(L *lua.LState, n int) {
	if n <= 0 {
		n = DefaultMaxStringSize
	}
	L.G.Registry.RawSetString(maxStringKey, lua.LNumber(n))
}

func maxStringSize(L *lua.LState) int {
	if n, ok := L.G.Registry.RawGetString(maxStringKey).(lua.LNumber); ok {
		return int(n)
	}
	return DefaultMaxStringSize
}

func noMemory(L *lua.LState) {
	L.Error(lua.LString("not enough memory"), 0)
}

// openStringLib replaces the string library's functions in L (the string
// table is also the strings' metatable __index, so methods follow) and makes
// setmetatable refuse strings.
func openStringLib(L *lua.LState) {
	t, ok := L.G.Global.RawGetString("string").(*lua.LTable)
	if !ok {
		return
	}
	for name, fn := range map[string]lua.LGFunction{
		"byte": strByte, "char": strChar, "find": strFind, "format": strFormat,
		"gmatch": strGmatch, "gsub": strGsub, "len": strLen, "lower": strLower,
		"match": strMatch, "rep": strRep, "reverse": strReverse, "sub": strSub,
		"upper": strUpper,
	} {
		t.RawSetString(name, L.NewFunction(fn))
	}
	t.RawSetString("gfind", t.RawGetString("gmatch"))
	if orig, ok := L.G.Global.RawGetString("setmetatable").(*lua.LFunction); ok && orig.IsG {
		next := orig.GFunction
		L.G.Global.RawSetString("setmetatable", L.NewFunction(func(L *lua.LState) int {
			// Lua 5.1 takes tables only; gopher-lua would set the
			// metatable of every string of the state.
			if L.Get(1).Type() == lua.LTString {
				argTypeError(L, 1, "table")
			}
			return next(L)
		}))
	}
}

// funcName is the name Lua 5.1 gives the running function in argument
// errors.

func argTypeError(L *lua.LState, n int, want string) {
	got := "no value"
	if n <= L.GetTop() {
		got = L.Get(n).Type().String()
	}
	argError(L, n, want+" expected, got "+got)
}

// strArg is luaL_checklstring: a string, or a number as %.14g.
func strArg(L *lua.LState, n int) string {
	switch v := L.Get(n).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return FormatNumber(float64(v))
	}
	argTypeError(L, n, "string")
	return ""
}

// numArg is luaL_checknumber: a number, or a string that converts to one.
func numArg(L *lua.LState, n int) float64 {
	switch v := L.Get(n).(type) {
	case lua.LNumber:
		return float64(v)
	case lua.LString:
		if f, ok := str2number(string(v)); ok {
			return f
		}
	}
	argTypeError(L, n, "number")
	return 0
}

// intArg is luaL_checkinteger: numArg truncated.
func intArg(L *lua.LState, n int) int {
	return toInt(numArg(L, n))
}

// optIntArg is luaL_optinteger.
func optIntArg(L *lua.LState, n, def int) int {
	if L.Get(n) == lua.LNil {
		return def
	}
	return intArg(L, n)
}

// toInt truncates f as C's cast does on amd64 (out of range: the minimum).
func toInt(f float64) int {
	if f != f || f >= 1<<63 || f < -(1<<63) {
		return math.MinInt64
	}
	return int(f)
}

// str2number converts s as Lua 5.1's lua_str2number: a decimal (or hex)
// number with optional surrounding white space.
func str2number(s string) (float64, bool) {
	s = strings.Trim(s, " \t\n\v\f\r")
	if s == "" {
		return 0, false
	}
	t := s
	neg := false
	if t[0] == '-' || t[0] == '+' {
		neg = t[0] == '-'
		t = t[1:]
	}
	if len(t) > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') {
		u, err := strconv.ParseUint(t[2:], 16, 64)
		if err != nil && !strings.Contains(err.Error(), "range") {
			return 0, false
		}
		f := float64(u)
		if neg {
			f = -f
		}
		return f, true
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; c == '_' || c == 'x' || c == 'X' || c == 'p' || c == 'P' {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, false
		}
	}
	return f, true
}

// relPos is posrelat: a negative position counts from the end.
func relPos(pos, n int) int {
	if pos < 0 {
		pos += n + 1
	}
	if pos < 0 {
		return 0
	}
	return pos
}

func strLen(L *lua.LState) int {
	L.Push(lua.LNumber(len(strArg(L, 1))))
	return 1
}

func strSub(L *lua.LState) int {
	s := strArg(L, 1)
	i := relPos(intArg(L, 2), len(s))
	j := relPos(optIntArg(L, 3, -1), len(s))
	if i < 1 {
		i = 1
	}
	if j > len(s) {
		j = len(s)
	}
	if i > j {
		L.Push(lua.LString(""))
	} else {
		L.Push(lua.LString(s[i-1 : j]))
	}
	return 1
}

func strUpper(L *lua.LState) int {
	s := strArg(L, 1)
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	L.Push(lua.LString(b))
	return 1
}

func strLower(L *lua.LState) int {
	s := strArg(L, 1)
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	L.Push(lua.LString(b))
	return 1
}

func strReverse(L *lua.LState) int {
	s := strArg(L, 1)
	b := make([]byte, len(s))
	for i := range b {
		b[i] = s[len(s)-1-i]
	}
	L.Push(lua.LString(b))
	return 1
}

func strRep(L *lua.LState) int {
	s := strArg(L, 1)
	n := int(int32(intArg(L, 2))) // luaL_checkint: a C int
	if n <= 0 || s == "" {
		L.Push(lua.LString(""))
		return 1
	}
	if n > maxStringSize(L)/len(s) {
		noMemory(L)
	}
	total := len(s) * n
	if total <= 1<<20 {
		L.Push(lua.LString(strings.Repeat(s, n)))
		return 1
	}
	// a large result: built by doubling, polling the deadline in between
	var done <-chan struct{}
	if ctx := L.Context(); ctx != nil {
		done = ctx.Done()
	}
	var b strings.Builder
	b.Grow(total)
	b.WriteString(s)
	for b.Len() < total {
		select {
		case <-done:
			L.RaiseError("%s", L.Context().Err().Error())
		default:
		}
		chunk := min(b.Len(), total-b.Len(), 1<<24)
		b.WriteString(b.String()[:chunk])
	}
	L.Push(lua.LString(b.String()))
	return 1
}

func strByte(L *lua.LState) int {
	s := strArg(L, 1)
	i := relPos(optIntArg(L, 2, 1), len(s))
	j := relPos(optIntArg(L, 3, i), len(s))
	if i <= 0 {
		i = 1
	}
	if j > len(s) {
		j = len(s)
	}
	if i > j {
		return 0
	}
	// luaL_checkstack: as many results as Lua 5.1's C stack holds
	if j-i+1 >= maxResults-L.GetTop() {
		raise(L, "stack overflow (string slice too long)")
	}
	for k := i; k <= j; k++ {
		L.Push(lua.LNumber(s[k-1]))
	}
	return j - i + 1
}

func strChar(L *lua.LState) int {
	n := L.GetTop()
	b := make([]byte, n)
	for i := 1; i <= n; i++ {
		// luaL_checkint: the integer, then as a C int
		c := int32(intArg(L, i))
		if c < 0 || c > 255 {
			argError(L, i, "invalid value")
		}
		b[i-1] = byte(c)
	}
	L.Push(lua.LString(b))
	return 1
}

// hasSpecials reports whether a pattern, read up to its first zero byte as
// Lua 5.1 does, has a character that makes it more than plain text.
func hasSpecials(p string) bool {
	return strings.ContainsAny(cutAtZero(p), "^$*+?.([%-")
}

func strFind(L *lua.LState) int  { return findAux(L, true) }
func strMatch(L *lua.LState) int { return findAux(L, false) }

// findAux is string.find (find) and string.match.
func findAux(L *lua.LState, find bool) int {
	s := strArg(L, 1)
	p := strArg(L, 2)
	init := relPos(optIntArg(L, 3, 1), len(s)) - 1
	if init < 0 {
		init = 0
	} else if init > len(s) {
		init = len(s)
	}
	if find && (lua.LVAsBool(L.Get(4)) || !hasSpecials(p)) {
		if i := strings.Index(s[init:], p); i >= 0 {
			L.Push(lua.LNumber(init + i + 1))
			L.Push(lua.LNumber(init + i + len(p)))
			return 2
		}
		L.Push(lua.LNil)
		return 1
	}
	m := newMatcher(L, s, p)
	if si, e := m.find(init, true); si >= 0 {
		var n int
		if find {
			L.Push(lua.LNumber(si + 1))
			L.Push(lua.LNumber(e))
			n = m.pushCaptures(-1, 0, false) + 2
		} else {
			n = m.pushCaptures(si, e, true)
		}
		m.release()
		return n
	}
	m.release()
	L.Push(lua.LNil)
	return 1
}

// strGmatch is string.gmatch(s, p): an iterator over the matches of p in
// s. As in Lua 5.1, '^' is not an anchor here.
func strGmatch(L *lua.LState) int {
	s := strArg(L, 1)
	p := strArg(L, 2)
	pos := 0
	L.Push(L.NewFunction(func(L *lua.LState) int {
		if pos > len(s) {
			return 0
		}
		m := newMatcher(L, s, p)
		start, e := m.find(pos, false)
		if start < 0 {
			m.release()
			pos = len(s) + 1
			return 0
		}
		pos = e
		if e == start {
			pos++ // an empty match: move on at least one byte
		}
		n := m.pushCaptures(start, e, true)
		m.release()
		return n
	}))
	return 1
}

// strGsub is string.gsub(s, p, repl [, n]).
func strGsub(L *lua.LState) int {
	s := strArg(L, 1)
	p := strArg(L, 2)
	repl := L.Get(3)
	maxN := int(int32(optIntArg(L, 4, len(s)+1))) // luaL_optint: a C int
	var replStr string
	switch v := repl.(type) {
	case lua.LNumber:
		replStr = FormatNumber(float64(v))
	case lua.LString:
		replStr = string(v)
	case *lua.LFunction, *lua.LTable:
	default:
		argError(L, 3, "string/function/table expected")
	}
	limit := maxStringSize(L)
	m := newMatcher(L, s, p)
	anchor := m.Anchored()
	var b []byte
	si, n := 0, 0
	for n < maxN {
		start, e := m.find(si, true)
		if start < 0 {
			break
		}
		if b == nil {
			b = make([]byte, 0, len(s)+len(s)/8)
		}
		b = append(b, s[si:start]...)
		n++
		b = m.addValue(b, repl, replStr, start, e)
		if len(b) > limit {
			noMemory(L)
		}
		switch {
		case e > start:
			si = e
		case start < len(s):
			b = append(b, s[start])
			si = start + 1
		default:
			si = start
			goto done
		}
		if anchor {
			break
		}
	}
done:
	m.release()
	if n == 0 {
		L.Push(lua.LString(s))
	} else {
		b = append(b, s[si:]...)
		if len(b) > limit {
			noMemory(L)
		}
		L.Push(lua.LString(b))
	}
	L.Push(lua.LNumber(n))
	return 2
}

// addValue appends the replacement of the match src[s:e] to b.
func (m *matcher) addValue(b []byte, repl lua.LValue, replStr string, s, e int) []byte {
	L := m.L
	if b == nil {
		b = make([]byte, 0, len(m.src)+len(m.src)/8)
	}
	var v lua.LValue
	switch r := repl.(type) {
	case *lua.LFunction:
		L.Push(r)
		n := m.pushCaptures(s, e, true)
		L.Call(n, 1)
		v = L.Get(-1)
		L.Pop(1)
	case *lua.LTable:
		v = L.GetTable(r, m.capture(0, s, e))
	default:
		return m.addString(b, replStr, s, e)
	}
	switch v := v.(type) {
	case lua.LString:
		return append(b, v...)
	case lua.LNumber:
		return AppendNumber(b, float64(v))
	}
	if !lua.LVAsBool(v) {
		return append(b, m.src[s:e]...) // false or nil: keep the match
	}
	raise(L, "invalid replacement value (a %s)", v.Type().String())
	return b
}

// addString appends replacement string r for the match src[s:e]: %0 is
// the match, %1-%9 its captures, % before anything else that character
// (and, as in Lua 5.1, a final % a zero byte).
func (m *matcher) addString(b []byte, r string, s, e int) []byte {
	for i := 0; i < len(r); i++ {
		c := r[i]
		if c != '%' {
			b = append(b, c)
			continue
		}
		i++
		if i == len(r) {
			b = append(b, 0)
			break
		}
		c = r[i]
		switch {
		case c == '0':
			b = append(b, m.src[s:e]...)
		case c >= '1' && c <= '9':
			switch v := m.capture(int(c-'1'), s, e).(type) {
			case lua.LString:
				b = append(b, v...)
			case lua.LNumber:
				b = AppendNumber(b, float64(v))
			}
		default:
			b = append(b, c)
		}
	}
	return b
}
