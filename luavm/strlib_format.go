package luavm

import (
	"fmt"
	"math"
	"strconv"

	lua "github.com/yuin/gopher-lua"
)

// fmtSpec is one parsed conversion of string.format.
type fmtSpec struct {
	minus, plus, space, alt, zero bool
	width, prec                   int // prec < 0: none
}

// strFormat is Lua 5.1's string.format, except that %s converts its
// argument as tostring does (LuaJIT's and Lua 5.2's behaviour, which Kong
// plugins rely on) and keeps zero bytes.
func strFormat(L *lua.LState) int {
	f := strArg(L, 1)
	top := L.GetTop()
	arg := 1
	b := make([]byte, 0, len(f)+16)
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' {
			b = append(b, c)
			continue
		}
		i++
		if i < len(f) && f[i] == '%' {
			b = append(b, '%')
			continue
		}
		arg++
		if arg > top {
			argError(L, arg, "no value")
		}
		var sp fmtSpec
		i = sp.scan(L, f, i)
		var conv byte
		if i < len(f) {
			conv = f[i]
		}
		switch conv {
		case 'c':
			b = sp.pad(b, nil, []byte{byte(int32(toInt(numArg(L, arg))))}, false)
		case 'd', 'i':
			n := toInt(numArg(L, arg))
			neg := n < 0
			u := uint64(n)
			if neg {
				u = -u
			}
			b = sp.integer(b, u, neg, 10, true, 0)
		case 'o', 'u', 'x', 'X':
			u := toUint(numArg(L, arg))
			base := map[byte]int{'o': 8, 'u': 10, 'x': 16, 'X': 16}[conv]
			b = sp.integer(b, u, false, base, false, conv)
		case 'e', 'E', 'f', 'g', 'G':
			b = sp.float(b, numArg(L, arg), conv)
		case 'q':
			b = appendQuoted(b, strArg(L, arg))
		case 's':
			s := tostringArg(L, arg)
			if sp.prec >= 0 && sp.prec < len(s) {
				s = s[:sp.prec]
			}
			b = sp.pad(b, nil, []byte(s), false)
		case 0: // the format ends within the conversion
			raise(L, "%s", "invalid option '%' to 'format'")
		default:
			raise(L, "invalid option '%%%c' to 'format'", conv)
		}
	}
	L.Push(lua.LString(b))
	return 1
}

// tostringArg is tostring(arg) for %s: __tostring, else Lua's text.
func tostringArg(L *lua.LState, n int) string {
	switch v := TostringValue(L, L.Get(n)).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return FormatNumber(float64(v))
	}
	raise(L, "'tostring' must return a string to 'format'")
	return ""
}

// scan reads flags, width and precision from f at i and returns the index
// of the conversion letter, with Lua 5.1's limits: at most five flag
// characters, two digits of width and two of precision.
func (sp *fmtSpec) scan(L *lua.LState, f string, i int) int {
	start := i
	for ; i < len(f); i++ {
		switch f[i] {
		case '-':
			sp.minus = true
		case '+':
			sp.plus = true
		case ' ':
			sp.space = true
		case '#':
			sp.alt = true
		case '0':
			sp.zero = true
		default:
			goto flagsDone
		}
	}
flagsDone:
	if i-start >= 6 {
		raise(L, "invalid format (repeated flags)")
	}
	digits := func(max int) int {
		n := 0
		for k := 0; k < max && i < len(f) && f[i] >= '0' && f[i] <= '9'; k++ {
			n = n*10 + int(f[i]-'0')
			i++
		}
		return n
	}
	sp.width = digits(2)
	sp.prec = -1
	if i < len(f) && f[i] == '.' {
		i++
		sp.prec = digits(2)
	}
	if i < len(f) && f[i] >= '0' && f[i] <= '9' {
		raise(L, "invalid format (width or precision too long)")
	}
	return i
}

// pad appends prefix and body padded to the width: spaces on the left (or
// the right with '-'), or zeros between prefix and body when zeros is set.
func (sp *fmtSpec) pad(b, prefix, body []byte, zeros bool) []byte {
	n := sp.width - len(prefix) - len(body)
	if n <= 0 {
		b = append(b, prefix...)
		return append(b, body...)
	}
	switch {
	case sp.minus:
		b = append(b, prefix...)
		b = append(b, body...)
		return appendRepeat(b, ' ', n)
	case zeros:
		b = append(b, prefix...)
		b = appendRepeat(b, '0', n)
		return append(b, body...)
	}
	b = appendRepeat(b, ' ', n)
	b = append(b, prefix...)
	return append(b, body...)
}

func appendRepeat(b []byte, c byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, c)
	}
	return b
}

// toUint converts f as gcc's (unsigned long) cast does on amd64: below
// 2^63 through the signed conversion, above it 2^63 is taken off first;
// +inf and values from 2^64 become 0, NaN the signed conversion's 2^63.
func toUint(f float64) uint64 {
	if !(f >= 1<<63) { // NaN too
		return uint64(toInt(f))
	}
	if g := f - (1 << 63); g < 1<<63 {
		return uint64(int64(g)) ^ (1 << 63)
	}
	return 0
}

// integer formats %d %i %o %u %x %X as C's printf does.
func (sp *fmtSpec) integer(b []byte, u uint64, neg bool, base int, signed bool, conv byte) []byte {
	var digits []byte
	if !(sp.prec == 0 && u == 0) {
		digits = strconv.AppendUint(make([]byte, 0, 24), u, base)
		if conv == 'X' {
			for i, c := range digits {
				if c >= 'a' {
					digits[i] = c - 32
				}
			}
		}
	}
	for len(digits) < sp.prec {
		digits = append([]byte{'0'}, digits...)
	}
	var prefix []byte
	switch {
	case neg:
		prefix = []byte{'-'}
	case signed && sp.plus:
		prefix = []byte{'+'}
	case signed && sp.space:
		prefix = []byte{' '}
	}
	if sp.alt {
		switch {
		case conv == 'o' && (len(digits) == 0 || digits[0] != '0'):
			digits = append([]byte{'0'}, digits...)
		case conv == 'x' && u != 0:
			prefix = append(prefix, '0', 'x')
		case conv == 'X' && u != 0:
			prefix = append(prefix, '0', 'X')
		}
	}
	return sp.pad(b, prefix, digits, sp.zero && sp.prec < 0)
}

// float formats %e %E %f %g %G as C's printf does (glibc's inf and nan).
func (sp *fmtSpec) float(b []byte, f float64, conv byte) []byte {
	var prefix []byte
	switch {
	case math.Signbit(f):
		prefix = []byte{'-'}
	case sp.plus:
		prefix = []byte{'+'}
	case sp.space:
		prefix = []byte{' '}
	}
	upper := conv == 'E' || conv == 'G'
	if math.IsInf(f, 0) || math.IsNaN(f) {
		body := "inf"
		if math.IsNaN(f) {
			body = "nan"
		}
		if upper {
			body = map[string]string{"inf": "INF", "nan": "NAN"}[body]
		}
		return sp.pad(b, prefix, []byte(body), false)
	}
	prec := sp.prec
	if prec < 0 {
		prec = 6
	}
	form := []byte{'%'}
	if sp.alt {
		form = append(form, '#')
	}
	form = append(form, '.')
	form = strconv.AppendInt(form, int64(prec), 10)
	form = append(form, conv)
	body := fmt.Appendf(nil, string(form), math.Abs(f))
	return sp.pad(b, prefix, body, sp.zero)
}

// appendQuoted is %q: s between double quotes, readable back by Lua.
func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\', '\n':
			b = append(b, '\\', c)
		case '\r':
			b = append(b, '\\', 'r')
		case 0:
			b = append(b, '\\', '0', '0', '0')
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
