package luavm

import (
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Lua 5.1 behaviour of base, table, math, os and coroutine functions where
// gopher-lua's differs in ways plugins (and the conformance suite) notice.
// The functions below are luavm's own, written from the Lua 5.1 reference
// manual and from lua5.1's observable behaviour.

// openBaseFixes replaces, in L's globals, the functions whose behaviour
// differs from Lua 5.1's. OpenLibs calls it last.
func openBaseFixes(L *lua.LState) {
	g := L.G.Global
	set := func(t *lua.LTable, name string, fn lua.LGFunction) {
		t.RawSetString(name, L.NewFunction(fn))
	}
	set(g, "error", baseError)
	set(g, "assert", baseAssert)
	set(g, "tonumber", baseToNumber)
	set(g, "select", baseSelect)
	set(g, "unpack", baseUnpack)
	set(g, "rawset", baseRawSet)
	set(g, "rawget", baseRawGet)
	set(g, "setmetatable", baseSetMetatable)
	set(g, "getmetatable", baseGetMetatable)
	set(g, "getfenv", baseGetFEnv)
	set(g, "setfenv", baseSetFEnv)
	set(g, "next", baseNext)
	set(g, "ipairs", baseIPairs(L.NewFunction(ipairsAux)))
	set(g, "pairs", basePairs(g.RawGetString("next").(*lua.LFunction)))
	set(g, "collectgarbage", baseCollectGarbage)
	set(g, "type", baseType)
	set(g, "rawequal", baseRawEqual)
	if t, ok := g.RawGetString("table").(*lua.LTable); ok {
		openTableFixes(L, t)
	}
	if t, ok := g.RawGetString("math").(*lua.LTable); ok {
		openMathFixes(L, t)
	}
	if t, ok := g.RawGetString("os").(*lua.LTable); ok {
		openOsFixes(L, t)
	}
	if t, ok := g.RawGetString("coroutine").(*lua.LTable); ok {
		openCoroutineFixes(L, t)
	}
}

// where is luaL_where: "chunk:line: " for the function level levels up
// the stack (0: the running Go function, 1: its caller), when it is a Lua
// function; "" otherwise (Lua 5.1 gives Go callers, pcall's for instance,
// no position).
func where(L *lua.LState, level int) string {
	dbg, ok := L.GetStack(level)
	if !ok || inTailCallGap(L, level, dbg) {
		return ""
	}
	if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil {
		return ""
	}
	if dbg.CurrentLine > 0 {
		return fmt.Sprintf("%s:%d: ", dbg.Source, dbg.CurrentLine)
	}
	return ""
}

// inTailCallGap reports whether level is one of the levels Lua 5.1 counts
// for tail calls, which have no function: gopher-lua's GetStack answers
// those with the outermost frame.
func inTailCallGap(L *lua.LState, level int, dbg *lua.Debug) bool {
	top := level
	for {
		if _, ok := L.GetStack(top + 1); !ok {
			break
		}
		top++
	}
	if top == level {
		return false
	}
	outer, _ := L.GetStack(top)
	return *outer == *dbg
}

// raise is luaL_error: the message prefixed with the caller's position.
func raise(L *lua.LState, format string, args ...any) {
	L.Error(lua.LString(where(L, 1)+fmt.Sprintf(format, args...)), 0)
}

// raiseNoPos raises msg as is: Lua 5.1's luaG_runerror from a C function.
func raiseNoPos(L *lua.LState, msg string) {
	L.Error(lua.LString(msg), 0)
}

// calledName is the name Lua 5.1 gives the running Go function in argument
// errors: the one its call site uses, "?" when it has none (a call from Go,
// pcall(f) for instance).
func calledName(L *lua.LState) string {
	dbg, ok := L.GetStack(0)
	if !ok {
		return "?"
	}
	if _, err := L.GetInfo("n", dbg, lua.LNil); err != nil {
		return "?"
	}
	if dbg.Name == "" || dbg.Name == "(anonymous)" || strings.HasPrefix(dbg.Name, "<") {
		return "?"
	}
	return dbg.Name
}

// argError is luaL_argerror.
func argError(L *lua.LState, n int, msg string) {
	raise(L, "bad argument #%d to '%s' (%s)", n, calledName(L), msg)
}

// typeName is Lua 5.1's luaL_typename of argument n: "no value" past the
// last argument.
func typeName(L *lua.LState, n int) string {
	if n > L.GetTop() {
		return "no value"
	}
	return L.Get(n).Type().String()
}

// typeError is luaL_typerror.
func typeError(L *lua.LState, n int, expected string) {
	argError(L, n, expected+" expected, got "+typeName(L, n))
}

func checkAny(L *lua.LState, n int) lua.LValue {
	if n > L.GetTop() {
		argError(L, n, "value expected")
	}
	return L.Get(n)
}

func checkTable(L *lua.LState, n int) *lua.LTable {
	t, ok := L.Get(n).(*lua.LTable)
	if !ok {
		typeError(L, n, "table")
	}
	return t
}

// toNumber is lua_tonumber: a number, or a string Lua 5.1 converts.
func toNumber(v lua.LValue) (float64, bool) {
	switch v := v.(type) {
	case lua.LNumber:
		return float64(v), true
	case lua.LString:
		return str2d(string(v))
	}
	return 0, false
}

// ToNumber is lua_tonumber for bindings: a number, or a string Lua 5.1
// converts ("10", " 0x1A ").
func ToNumber(v lua.LValue) (float64, bool) { return toNumber(v) }

func checkNumber(L *lua.LState, n int) float64 {
	f, ok := toNumber(L.Get(n))
	if !ok {
		typeError(L, n, "number")
	}
	return f
}

func optNumber(L *lua.LState, n int, d float64) float64 {
	if L.Get(n) == lua.LNil {
		return d
	}
	return checkNumber(L, n)
}

// checkInt is luaL_checkint: the number truncated toward zero, as C's
// cast does.
func checkInt(L *lua.LState, n int) int {
	return numberToInt(checkNumber(L, n))
}

func optInt(L *lua.LState, n int, d int) int {
	if L.Get(n) == lua.LNil {
		return d
	}
	return checkInt(L, n)
}

// numberToInt converts as lua_tointeger does on x86-64: truncation, with
// values out of range (and NaN) as the minimum int.
func numberToInt(f float64) int {
	if math.IsNaN(f) || f >= 9.223372036854775807e18 || f < -9.223372036854775808e18 {
		return math.MinInt64
	}
	return int(f)
}

// isSpace is C's isspace in the "C" locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// str2d is Lua 5.1's luaO_str2d with glibc's strtod: decimal and
// hexadecimal numbers (with a fraction and a binary exponent), "inf",
// "infinity" and "nan", with optional sign and surrounding white space.
func str2d(s string) (float64, bool) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	f, n := strtod(s[i:])
	if n == 0 {
		return 0, false
	}
	i += n
	if i < len(s) && (s[i] == 'x' || s[i] == 'X') {
		// luaO_str2d retries "0x..." strtod stopped at with strtoul
		u, m := strtoul(s, 16)
		if m == 0 {
			return 0, false
		}
		f, i = u, m
	}
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i != len(s) {
		return 0, false
	}
	return f, true
}

// strtod parses the longest prefix of s strtod would (no leading space),
// returning the value and the bytes used (0: none).
func strtod(s string) (float64, int) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	sign := func(f float64) float64 {
		if neg {
			return -f
		}
		return f
	}
	rest := strings.ToLower(s[i:])
	switch {
	case strings.HasPrefix(rest, "infinity"):
		return sign(math.Inf(1)), i + 8
	case strings.HasPrefix(rest, "inf"):
		return sign(math.Inf(1)), i + 3
	case strings.HasPrefix(rest, "nan"):
		n := i + 3
		if n < len(s) && s[n] == '(' {
			j := n + 1
			for j < len(s) && (isAlnum(s[j]) || s[j] == '_') {
				j++
			}
			if j < len(s) && s[j] == ')' {
				n = j + 1
			}
		}
		nan := math.NaN()
		if neg {
			nan = math.Copysign(nan, -1)
		} else {
			nan = math.Copysign(nan, 1)
		}
		return nan, n
	}
	if len(rest) >= 2 && rest[0] == '0' && rest[1] == 'x' {
		if f, n := hexFloat(s[i+2:]); n > 0 {
			return sign(f), i + 2 + n
		}
		// "0x" without hex digits: the "0"
		return sign(0), i + 1
	}
	start := i
	digits := 0
	for i < len(s) && isDigit(s[i]) {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, 0
	}
	end := i
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && isDigit(s[j]) {
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			end = j
		}
	}
	f, err := strconv.ParseFloat(s[start:end], 64)
	if err != nil && !isRangeErr(err) {
		return 0, 0
	}
	return sign(f), end
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// hexFloat parses hex digits, an optional fraction and an optional binary
// exponent (after "0x"); n is 0 without a hex digit.
func hexFloat(s string) (float64, int) {
	i := 0
	digits := 0
	var b strings.Builder
	b.WriteString("0x")
	for i < len(s) && isHex(s[i]) {
		b.WriteByte(s[i])
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		b.WriteByte('.')
		i++
		for i < len(s) && isHex(s[i]) {
			b.WriteByte(s[i])
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, 0
	}
	exp := "p0"
	if i < len(s) && (s[i] == 'p' || s[i] == 'P') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && isDigit(s[j]) {
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			exp = "p" + s[i+1:j]
			i = j
		}
	}
	mant := b.String()
	if strings.HasSuffix(mant, ".") {
		mant += "0"
	}
	if strings.HasPrefix(mant, "0x.") {
		mant = "0x0" + mant[2:]
	}
	f, err := strconv.ParseFloat(mant+exp, 64)
	if err != nil && !isRangeErr(err) {
		return 0, 0
	}
	return f, i
}

// strtoul is C's strtoul(s, &end, base) converted to a double: leading
// space, a sign (negating modulo 2^64), "0x" for base 16, digits; overflow
// gives ULONG_MAX. n is the bytes used, 0 when no digit was read.
func strtoul(s string, base int) (float64, int) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if base == 16 && i+2 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && isHex(s[i+2]) {
		i += 2
	}
	start := i
	var v uint64
	overflow := false
	for i < len(s) {
		d := digitValue(s[i])
		if d >= base {
			break
		}
		hi, lo := mulAdd(v, uint64(base), uint64(d))
		if hi != 0 {
			overflow = true
		}
		v = lo
		i++
	}
	if i == start {
		return 0, 0
	}
	if overflow {
		return float64(math.MaxUint64), i
	}
	if neg {
		v = -v
	}
	return float64(v), i
}

// mulAdd is v*m+a as a 128-bit result.
func mulAdd(v, m, a uint64) (hi, lo uint64) {
	h1, l1 := mul64(v, m)
	lo = l1 + a
	hi = h1
	if lo < l1 {
		hi++
	}
	return hi, lo
}

func mul64(x, y uint64) (hi, lo uint64) {
	const mask32 = 1<<32 - 1
	x0, x1 := x&mask32, x>>32
	y0, y1 := y&mask32, y>>32
	w0 := x0 * y0
	t := x1*y0 + w0>>32
	w1, w2 := t&mask32, t>>32
	w1 += x0 * y1
	hi = x1*y1 + w2 + w1>>32
	lo = x * y
	return
}

func digitValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return 99
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isHex(c byte) bool   { return digitValue(c) < 16 }
func isAlnum(c byte) bool { return digitValue(c) < 36 }

// baseError is error(v [, level]): a string or number message gets the
// position of the function level levels up (1: error's caller).
func baseError(L *lua.LState) int {
	level := optInt(L, 2, 1)
	v := L.Get(1)
	if level > 0 && isStringOrNumber(v) {
		v = lua.LString(where(L, level) + asString(v))
	}
	L.Error(v, 0)
	return 0
}

// baseAssert is assert(v [, message]): the message is a string and gets
// the caller's position.
func baseAssert(L *lua.LState) int {
	checkAny(L, 1)
	if lua.LVAsBool(L.Get(1)) {
		return L.GetTop()
	}
	msg := "assertion failed!"
	if L.Get(2) != lua.LNil {
		msg = checkStringLike(L, 2)
	}
	raise(L, "%s", msg)
	return 0
}

// checkStringLike is luaL_checkstring with Lua 5.1's argument errors.
func checkStringLike(L *lua.LState, n int) string {
	switch v := L.Get(n).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return FormatNumber(float64(v))
	}
	typeError(L, n, "string")
	return ""
}

// baseToNumber is tonumber(e [, base]).
func baseToNumber(L *lua.LState) int {
	base := optInt(L, 2, 10)
	if base == 10 {
		checkAny(L, 1)
		if f, ok := toNumber(L.Get(1)); ok {
			L.Push(lua.LNumber(f))
			return 1
		}
		L.Push(lua.LNil)
		return 1
	}
	s := checkStringLike(L, 1)
	if base < 2 || base > 36 {
		argError(L, 2, "base out of range")
	}
	f, n := strtoul(s, base)
	if n > 0 {
		for n < len(s) && isSpace(s[n]) {
			n++
		}
		if n == len(s) {
			L.Push(lua.LNumber(f))
			return 1
		}
	}
	L.Push(lua.LNil)
	return 1
}

// baseSelect is select(n, ...): negative n counts from the end.
func baseSelect(L *lua.LState) int {
	n := L.GetTop()
	if s, ok := L.Get(1).(lua.LString); ok && strings.HasPrefix(string(s), "#") {
		L.Push(lua.LNumber(n - 1))
		return 1
	}
	i := checkInt(L, 1)
	if i < 0 {
		i = n + i
	} else if i > n {
		i = n
	}
	if i < 1 {
		argError(L, 1, "index out of range")
	}
	return n - i
}

// maxResults bounds what unpack may push, as Lua 5.1's C stack limit
// (LUAI_MAXCSTACK) does: past it unpack fails instead of exhausting the
// host's registry.
const maxResults = 8000

// baseUnpack is unpack(t [, i [, j]]).
func baseUnpack(L *lua.LState) int {
	t := checkTable(L, 1)
	i := optInt(L, 2, 1)
	var e int
	if L.Get(3) == lua.LNil {
		e = t.Len()
	} else {
		e = checkInt(L, 3)
	}
	if i > e {
		return 0
	}
	n := e - i + 1
	if n <= 0 || n >= maxResults-L.GetTop() {
		raise(L, "too many results to unpack")
	}
	for k := i; k <= e; k++ {
		L.Push(t.RawGetInt(k))
	}
	return n
}

// checkKey raises Lua 5.1's errors for keys a table cannot hold.
func checkKey(L *lua.LState, k lua.LValue) {
	switch k := k.(type) {
	case *lua.LNilType:
		raiseNoPos(L, "table index is nil")
	case lua.LNumber:
		if math.IsNaN(float64(k)) {
			raiseNoPos(L, "table index is NaN")
		}
	}
}

// baseRawSet is rawset(t, k, v), returning t.
func baseRawSet(L *lua.LState) int {
	t := checkTable(L, 1)
	checkAny(L, 2)
	checkAny(L, 3)
	k := L.Get(2)
	checkKey(L, k)
	t.RawSet(k, L.Get(3))
	L.SetTop(1)
	return 1
}

// typeNames are type()'s answers, boxed once (type(x) == "string" is on
// many plugins' request path).
var typeNames = func() (t [lua.LTChannel + 1]lua.LValue) {
	for i := range t {
		t[i] = lua.LString(lua.LValueType(i).String())
	}
	return
}()

func baseType(L *lua.LState) int {
	tp := checkAny(L, 1).Type()
	if int(tp) < len(typeNames) {
		L.Push(typeNames[tp])
	} else {
		L.Push(lua.LString(tp.String()))
	}
	return 1
}

func baseRawEqual(L *lua.LState) int {
	a, b := checkAny(L, 1), checkAny(L, 2)
	L.Push(lua.LBool(L.RawEqual(a, b)))
	return 1
}

// baseRawGet is rawget(t, k).
func baseRawGet(L *lua.LState) int {
	t := checkTable(L, 1)
	checkAny(L, 2)
	L.Push(t.RawGet(L.Get(2)))
	return 1
}

// baseSetMetatable is setmetatable(t, mt): tables only, mt nil or a table,
// and not over a __metatable field (even a false one).
func baseSetMetatable(L *lua.LState) int {
	t := checkTable(L, 1)
	mt := L.Get(2)
	if mt.Type() != lua.LTNil && mt.Type() != lua.LTTable {
		argError(L, 2, "nil or table expected")
	}
	if cur, ok := t.Metatable.(*lua.LTable); ok && cur.RawGetString("__metatable") != lua.LNil {
		raise(L, "cannot change a protected metatable")
	}
	L.SetMetatable(t, mt)
	L.SetTop(1)
	return 1
}

// baseGetMetatable is getmetatable(v): __metatable (even false) stands for
// the metatable, as gopher-lua's GetMetatable does.
func baseGetMetatable(L *lua.LState) int {
	L.Push(L.GetMetatable(checkAny(L, 1)))
	return 1
}

// basePairs is pairs(t): next, t, nil.
func basePairs(next *lua.LFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		checkTable(L, 1)
		L.Push(next)
		L.Push(L.Get(1))
		L.Push(lua.LNil)
		return 3
	}
}

// baseCollectGarbage is collectgarbage([opt [, arg]]) over Go's collector:
// "count" is the heap in Kbytes, "collect" (the default) runs a
// collection, "step" reports a finished cycle; the tuning options are
// accepted and return 0.
func baseCollectGarbage(L *lua.LState) int {
	opt := "collect"
	if L.Get(1) != lua.LNil {
		opt = checkStringLike(L, 1)
	}
	switch opt {
	case "collect":
		runtime.GC()
		L.Push(lua.LNumber(0))
	case "count":
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		L.Push(lua.LNumber(float64(ms.HeapAlloc) / 1024))
	case "step":
		L.Push(lua.LTrue)
	case "stop", "restart", "setpause", "setstepmul":
		optInt(L, 2, 0)
		L.Push(lua.LNumber(0))
	default:
		argError(L, 1, "invalid option '"+opt+"'")
	}
	return 1
}

// envFunction is getfunc of Lua 5.1's getfenv and setfenv: argument 1 as a
// function, or the function running at that level (1: the caller). A nil
// function means level 0, the running thread.
func envFunction(L *lua.LState, optional bool) (*lua.LFunction, bool) {
	if f, ok := L.Get(1).(*lua.LFunction); ok {
		return f, true
	}
	var level int
	if optional {
		level = optInt(L, 1, 1)
	} else {
		level = checkInt(L, 1)
	}
	if level < 0 {
		argError(L, 1, "level must be non-negative")
	}
	if level == 0 {
		return nil, false
	}
	// level counts from getfenv's caller, as lua_getstack from the C
	// function does
	dbg, ok := L.GetStack(level)
	if !ok {
		argError(L, 1, "invalid level")
	}
	fv, err := L.GetInfo("f", dbg, lua.LNil)
	f, isFn := fv.(*lua.LFunction)
	if err != nil || !isFn {
		raise(L, "no function environment for tail call at level %d", level)
	}
	return f, false
}

// baseGetFEnv is getfenv([f]): a Go function's environment is the thread's
// globals.
func baseGetFEnv(L *lua.LState) int {
	f, _ := envFunction(L, true)
	if f == nil || f.IsG {
		L.Push(threadEnv(L))
		return 1
	}
	if f.Env == nil {
		L.Push(threadEnv(L))
		return 1
	}
	L.Push(f.Env)
	return 1
}

func threadEnv(L *lua.LState) *lua.LTable {
	if L.Env != nil {
		return L.Env
	}
	return L.G.Global
}

// baseSetFEnv is setfenv(f, table); setfenv(0, t) sets the thread's.
func baseSetFEnv(L *lua.LState) int {
	env, ok := L.Get(2).(*lua.LTable)
	if !ok {
		typeError(L, 2, "table")
	}
	f, _ := envFunction(L, false)
	if f == nil {
		L.Env = env
		return 0
	}
	if f.IsG {
		raise(L, "'setfenv' cannot change environment of given object")
	}
	f.Env = env
	L.Push(f)
	return 1
}

// baseNext is next(t [, k]) with Lua 5.1's argument check.
func baseNext(L *lua.LState) int {
	t := checkTable(L, 1)
	nk, nv := t.Next(L.Get(2))
	if nk == lua.LNil {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(nk)
	L.Push(nv)
	return 2
}

// baseIPairs is ipairs(t): t must be a table; the iterator is one
// function shared by every call.
func baseIPairs(aux *lua.LFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		checkTable(L, 1)
		L.Push(aux)
		L.Push(L.Get(1))
		L.Push(lua.LNumber(0))
		return 3
	}
}

func ipairsAux(L *lua.LState) int {
	t := checkTable(L, 1)
	i := checkInt(L, 2) + 1
	v := t.RawGetInt(i)
	if v == lua.LNil {
		return 0
	}
	L.Push(lua.LNumber(i))
	L.Push(v)
	return 2
}
