package luavm

import (
	"math"
	"strconv"

	lua "github.com/yuin/gopher-lua"
)

// FormatNumber formats n as Lua 5.1 does (LUA_NUMBER_FMT "%.14g", as glibc
// prints it): 0.1+0.2 is "0.3", 1e15 is "1e+15", -0 is "-0", infinities
// are "inf"/"-inf" and NaN is "nan" or "-nan" by its sign bit.
func FormatNumber(n float64) string {
	return string(AppendNumber(make([]byte, 0, 24), n))
}

// AppendNumber appends FormatNumber(n) to b.
func AppendNumber(b []byte, n float64) []byte {
	// Integers below 1e14 in magnitude have at most 14 digits: %.14g
	// prints them as integers. Zero's sign is printed.
	if n == math.Trunc(n) && n > -1e14 && n < 1e14 {
		if n == 0 && math.Signbit(n) {
			return append(b, "-0"...)
		}
		return strconv.AppendInt(b, int64(n), 10)
	}
	switch {
	case math.IsNaN(n):
		if math.Signbit(n) {
			return append(b, "-nan"...)
		}
		return append(b, "nan"...)
	case math.IsInf(n, 1):
		return append(b, "inf"...)
	case math.IsInf(n, -1):
		return append(b, "-inf"...)
	}
	// strconv's 'g' with a precision removes trailing zeros and switches to
	// an exponent when it is < -4 or >= the precision, as C's %g does; C
	// prints at least two exponent digits, as strconv does.
	return strconv.AppendFloat(b, n, 'g', 14, 64)
}

// ToString converts v as Lua 5.1's tostring does for numbers and strings;
// other values keep gopher-lua's String (metamethods are the caller's).
func ToString(v lua.LValue) string {
	if n, ok := v.(lua.LNumber); ok {
		return FormatNumber(float64(n))
	}
	return v.String()
}

// asString is a string or number value as Lua 5.1 converts it to a string.
func asString(v lua.LValue) string {
	if s, ok := v.(lua.LString); ok {
		return string(s)
	}
	return FormatNumber(float64(v.(lua.LNumber)))
}
