package luavm

import (
	"math"
	"math/rand"

	lua "github.com/yuin/gopher-lua"
)

// Lua 5.1's math.huge, max, min, modf, random and randomseed.

func openMathFixes(L *lua.LState, t *lua.LTable) {
	t.RawSetString("huge", lua.LNumber(math.Inf(1)))
	// each state its own generator (states run on different goroutines),
	// seeded at random as gopher-lua's was: unlike lua5.1's rand(), two
	// states do not repeat one sequence before math.randomseed
	rng := rand.New(rand.NewSource(rand.Int63()))
	for name, fn := range map[string]lua.LGFunction{
		"max":        mathMax,
		"min":        mathMin,
		"modf":       mathModf,
		"random":     func(L *lua.LState) int { return mathRandom(L, rng) },
		"randomseed": func(L *lua.LState) int { rng.Seed(int64(checkInt(L, 1))); return 0 },
	} {
		t.RawSetString(name, L.NewFunction(fn))
	}
	// the rest, for Lua 5.1's argument errors and string arguments, and
	// glibc's NaN signs
	t.RawSetString("abs", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(math.Abs(checkNumber(L, 1))))
		return 1
	}))
	for name, f := range map[string]func(float64) float64{
		"atan": math.Atan, "ceil": math.Ceil, "cos": math.Cos, "cosh": math.Cosh,
		"exp": math.Exp, "floor": math.Floor, "log": math.Log, "sin": math.Sin,
		"sinh": math.Sinh, "sqrt": math.Sqrt, "tan": math.Tan, "tanh": math.Tanh,
		"deg": func(x float64) float64 { return x * (180 / math.Pi) },
		"rad": func(x float64) float64 { return x * (math.Pi / 180) },
	} {
		t.RawSetString(name, L.NewFunction(math1(f, false)))
	}
	for name, f := range map[string]func(float64) float64{
		"acos": math.Acos, "asin": math.Asin, "log10": math.Log10,
	} {
		t.RawSetString(name, L.NewFunction(math1(f, true)))
	}
	for name, f := range map[string]func(float64, float64) float64{
		"atan2": math.Atan2, "fmod": math.Mod, "pow": math.Pow,
	} {
		t.RawSetString(name, L.NewFunction(math2(f)))
	}
	t.RawSetString("ldexp", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(math.Ldexp(checkNumber(L, 1), checkInt(L, 2))))
		return 1
	}))
	t.RawSetString("frexp", L.NewFunction(func(L *lua.LState) int {
		m, e := math.Frexp(checkNumber(L, 1))
		L.Push(lua.LNumber(m))
		L.Push(lua.LNumber(e))
		return 2
	}))
}

func math1(f func(float64) float64, positiveInvalid bool) lua.LGFunction {
	return func(L *lua.LState) int {
		x := checkNumber(L, 1)
		L.Push(lua.LNumber(cNaN(f(x), positiveInvalid, x)))
		return 1
	}
}

func math2(f func(float64, float64) float64) lua.LGFunction {
	return func(L *lua.LState) int {
		x, y := checkNumber(L, 1), checkNumber(L, 2)
		L.Push(lua.LNumber(cNaN(f(x, y), false, x, y)))
		return 1
	}
}

// cNaN gives a NaN result the sign glibc's would have (Lua prints it:
// "nan" or "-nan"): a NaN argument comes back as is (the first one); a NaN
// made from ordinary arguments is the x86 default NaN, negative, except
// for acos, asin and log10 (positiveInvalid). Go's math functions return
// a positive NaN in both cases.
func cNaN(r float64, positiveInvalid bool, args ...float64) float64 {
	if !math.IsNaN(r) {
		return r
	}
	for _, a := range args {
		if math.IsNaN(a) {
			return a
		}
	}
	if positiveInvalid {
		return math.Copysign(math.NaN(), 1)
	}
	return math.Copysign(math.NaN(), -1)
}

// mathMax is math.max(x, ...): NaN is kept only as the first argument, as
// Lua 5.1's comparisons go.
func mathMax(L *lua.LState) int {
	m := checkNumber(L, 1)
	for i := 2; i <= L.GetTop(); i++ {
		if d := checkNumber(L, i); d > m {
			m = d
		}
	}
	L.Push(lua.LNumber(m))
	return 1
}

func mathMin(L *lua.LState) int {
	m := checkNumber(L, 1)
	for i := 2; i <= L.GetTop(); i++ {
		if d := checkNumber(L, i); d < m {
			m = d
		}
	}
	L.Push(lua.LNumber(m))
	return 1
}

// mathModf is math.modf(x) as C's modf: infinities have a zero fraction of
// their sign.
func mathModf(L *lua.LState) int {
	x := checkNumber(L, 1)
	if math.IsInf(x, 0) {
		L.Push(lua.LNumber(x))
		L.Push(lua.LNumber(math.Copysign(0, x)))
		return 2
	}
	ip, fp := math.Modf(x)
	L.Push(lua.LNumber(ip))
	L.Push(lua.LNumber(fp))
	return 2
}

// mathRandom is math.random([m [, n]]).
func mathRandom(L *lua.LState, rng *rand.Rand) int {
	r := rng.Float64()
	switch L.GetTop() {
	case 0:
		L.Push(lua.LNumber(r))
	case 1:
		u := checkInt(L, 1)
		if u < 1 {
			argError(L, 1, "interval is empty")
		}
		L.Push(lua.LNumber(math.Floor(r*float64(u)) + 1))
	case 2:
		l, u := checkInt(L, 1), checkInt(L, 2)
		if l > u {
			argError(L, 2, "interval is empty")
		}
		L.Push(lua.LNumber(math.Floor(r*float64(u-l+1)) + float64(l)))
	default:
		raise(L, "wrong number of arguments")
	}
	return 1
}
