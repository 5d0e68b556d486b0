package luajit

import (
	"math"
	"math/bits"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// OpenBit preloads LuaJIT's BitOp module "bit": 32-bit operations on
// numbers, each argument normalised as bit.tobit does and each result a
// signed 32-bit number, as LuaJIT's.
func OpenBit(L *lua.LState) {
	L.PreloadModule("bit", func(L *lua.LState) int {
		L.Push(L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
			"tobit":   func(L *lua.LState) int { return pushBit(L, bitArg(L, 1)) },
			"bnot":    func(L *lua.LState) int { return pushBit(L, ^bitArg(L, 1)) },
			"band":    bitFold(func(a, b int32) int32 { return a & b }),
			"bor":     bitFold(func(a, b int32) int32 { return a | b }),
			"bxor":    bitFold(func(a, b int32) int32 { return a ^ b }),
			"lshift":  bitShift(func(x uint32, n uint) uint32 { return x << n }),
			"rshift":  bitShift(func(x uint32, n uint) uint32 { return x >> n }),
			"arshift": bitShift(func(x uint32, n uint) uint32 { return uint32(int32(x) >> n) }),
			"rol":     bitShift(func(x uint32, n uint) uint32 { return bits.RotateLeft32(x, int(n)) }),
			"ror":     bitShift(func(x uint32, n uint) uint32 { return bits.RotateLeft32(x, -int(n)) }),
			"bswap":   func(L *lua.LState) int { return pushBit(L, int32(bits.ReverseBytes32(uint32(bitArg(L, 1))))) },
			"tohex":   bitToHex,
		}))
		return 1
	})
}

// toBit is LuaJIT's normalisation: the number rounded to an integer
// (ties to even) and wrapped modulo 2^32 into a signed 32-bit value.
func toBit(x float64) int32 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	r := math.Mod(math.RoundToEven(x), 4294967296)
	return int32(uint32(int64(r)))
}

func bitArg(L *lua.LState, i int) int32 { return toBit(float64(L.CheckNumber(i))) }

func pushBit(L *lua.LState, v int32) int {
	L.Push(lua.LNumber(v))
	return 1
}

func bitFold(op func(a, b int32) int32) lua.LGFunction {
	return func(L *lua.LState) int {
		v := bitArg(L, 1)
		for i := 2; i <= L.GetTop(); i++ {
			v = op(v, bitArg(L, i))
		}
		return pushBit(L, v)
	}
}

// bitShift: the shift count's low 5 bits count, as LuaJIT's
func bitShift(op func(x uint32, n uint) uint32) lua.LGFunction {
	return func(L *lua.LState) int {
		return pushBit(L, int32(op(uint32(bitArg(L, 1)), uint(bitArg(L, 2))&31)))
	}
}

// bitToHex is bit.tohex(x [, n]): |n| (default 8, at most 8) hex digits
// of x's low bits, upper case when n is negative.
func bitToHex(L *lua.LState) int {
	x := uint32(bitArg(L, 1))
	n := int32(8)
	if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
		n = bitArg(L, 2)
	}
	upper := n < 0
	if upper {
		n = -n
	}
	if n > 8 {
		n = 8
	}
	const digits = "0123456789abcdef"
	buf := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		buf[i] = digits[x&15]
		x >>= 4
	}
	s := string(buf)
	if upper {
		s = strings.ToUpper(s)
	}
	L.Push(lua.LString(s))
	return 1
}
