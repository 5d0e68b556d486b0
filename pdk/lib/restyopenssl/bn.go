package restyopenssl

// resty.openssl.bn (lua-resty-openssl 1.x), Go-backed by math/big: the
// arbitrary-precision integers Kong's tracing propagation converts trace
// ids with (datadog and gcp headers carry them in decimal).
//   new([number | string [, base 10 | 16 | 2]]), from_binary(s),
//     from_hex(s), from_dec(s) -> bn, or nil and "bn.<f>: ..."; istype(v);
//   bn:set(v [, base]), bn:to_binary([pad]), bn:to_hex() (upper case, in
//     whole bytes: 5 is "05"), bn:to_dec() (also tostring), bn:to_number()
//     (tonumber), is_zero, is_one, is_odd, is_word(n);
//   add, sub, mul, div (truncating), mod (the dividend's sign), sqr, gcd,
//     exp (pow), mod_add, mod_sub, mod_mul, mod_exp, mod_sqr, lshift,
//     rshift, with + - * / % unary - == < <=: numbers are taken as
//     OpenSSL's BN_set_word takes them (an unsigned 64-bit word).
// Not covered: from_mpi/to_mpi, dup(ctx), generate_prime, is_prime.

import (
	"fmt"
	"math"
	"math/big"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/pdk/bind"
)

const opensslBnType = "luahost.resty.openssl.bn"

// word is a Lua number as BN_set_word receives it: converted to an
// unsigned 64-bit word (fractions dropped, negatives wrapped).
// maxBNBits bounds the numbers exp and lshift make: OpenSSL refuses a BN
// past its own size limit (BN_R_BIGNUM_TOO_LONG) after computing towards
// it; luahost refuses one past 2^20 bits (128 KiB, far above any key size)
// before computing it, so one call stays short and small: exp(2, 2^63)
// ran for ever and lshift(1, 2^62) asked for 2^59 bytes.
const maxBNBits = 1 << 20

// tooLong says whether a^b would be longer than maxBNBits.
func tooLong(a, b *big.Int) bool {
	if a.CmpAbs(big.NewInt(1)) <= 0 {
		return false // 0, 1, -1 to any power
	}
	return b.BitLen() > 32 || uint64(a.BitLen()-1)*b.Uint64() > maxBNBits
}

func word(n lua.LNumber) *big.Int {
	f := float64(n)
	switch {
	case f != f:
		return new(big.Int)
	case f >= 0 && f < math.MaxUint64:
		return new(big.Int).SetUint64(uint64(f))
	case f >= math.MaxUint64:
		return new(big.Int).SetUint64(math.MaxUint64)
	case f > math.MinInt64:
		return new(big.Int).SetUint64(uint64(int64(f)))
	default:
		return new(big.Int).SetUint64(1 << 63)
	}
}

// parseBnPrefix reads what BN_dec2bn / BN_hex2bn read: an optional "-",
// then the longest run of digits of the base (the rest is ignored); no
// digit is an error.
func parseBnPrefix(s string, base int) (*big.Int, bool) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	n := 0
	for n < len(s) {
		c := s[n]
		ok := c >= '0' && c <= '9'
		if base == 16 {
			ok = ok || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
		}
		if !ok {
			break
		}
		n++
	}
	if n == 0 {
		return nil, false
	}
	v, ok := new(big.Int).SetString(s[:n], base)
	if !ok {
		return nil, false
	}
	if neg {
		v.Neg(v)
	}
	return v, true
}

// bnFrom converts s in base (10, 16, or 2 for big-endian bytes).
func bnFrom(s string, base int) (*big.Int, error) {
	switch base {
	case 2:
		return new(big.Int).SetBytes([]byte(s)), nil
	case 10, 16:
		if v, ok := parseBnPrefix(s, base); ok {
			return v, nil
		}
		return nil, fmt.Errorf("invalid %s number", map[int]string{10: "decimal", 16: "hexadecimal"}[base])
	}
	return nil, fmt.Errorf("unsupported base: %d", base)
}

// bnHex is BN_bn2hex: upper-case hex in whole bytes, "0" for zero, a
// leading "-" when negative.
func bnHex(v *big.Int) string {
	if v.Sign() == 0 {
		return "0"
	}
	s := fmt.Sprintf("%X", new(big.Int).Abs(v).Bytes())
	if v.Sign() < 0 {
		return "-" + s
	}
	return s
}

func openBn(L *lua.LState) {
	mt := L.NewTypeMetatable(opensslBnType)
	push := func(L *lua.LState, v *big.Int) *lua.LUserData {
		ud := bind.NewUserData(L, v, mt)
		L.Push(ud)
		return ud
	}
	self := func(L *lua.LState) *big.Int {
		return bind.CheckUserData[*big.Int](L, 1, "bn expected")
	}
	// operand i of an arithmetic function: a bn or a number (as a word)
	operand := func(L *lua.LState, i int, op string) *big.Int {
		switch v := L.Get(i).(type) {
		case lua.LNumber:
			return word(v)
		case *lua.LUserData:
			if b, ok := v.Value.(*big.Int); ok && v.Metatable == mt {
				return b
			}
		}
		L.RaiseError("cannot %s a %s to bignum", op, L.Get(i).Type().String())
		return nil
	}
	fromArg := func(L *lua.LState, name string, v lua.LValue, base int) (*big.Int, string) {
		switch x := v.(type) {
		case lua.LNumber:
			return word(x), ""
		case lua.LString:
			b, err := bnFrom(string(x), base)
			if err != nil {
				return nil, name + ": " + err.Error()
			}
			return b, ""
		case *lua.LNilType:
			return new(big.Int), ""
		}
		return nil, name + ": expect nil, a number or a string at #1"
	}

	binop := func(op string, f func(r, a, b *big.Int) bool) lua.LGFunction {
		return func(L *lua.LState) int {
			a, b := operand(L, 1, op), operand(L, 2, op)
			r := new(big.Int)
			if !f(r, a, b) {
				L.RaiseError("BN_%s() failed", op)
			}
			push(L, r)
			return 1
		}
	}
	modop := func(op string, f func(r, a, b *big.Int)) lua.LGFunction {
		return func(L *lua.LState) int {
			a, b, m := operand(L, 1, op), operand(L, 2, op), operand(L, 3, op)
			if m.Sign() == 0 {
				L.RaiseError("BN_mod_%s failed", op)
			}
			r := new(big.Int)
			f(r, a, b)
			push(L, r.Mod(r, new(big.Int).Abs(m)))
			return 1
		}
	}
	add := binop("add", func(r, a, b *big.Int) bool { r.Add(a, b); return true })
	sub := binop("sub", func(r, a, b *big.Int) bool { r.Sub(a, b); return true })
	mul := binop("mul", func(r, a, b *big.Int) bool { r.Mul(a, b); return true })
	div := binop("div", func(r, a, b *big.Int) bool {
		if b.Sign() == 0 {
			return false
		}
		r.Quo(a, b)
		return true
	})
	mod := binop("div", func(r, a, b *big.Int) bool {
		if b.Sign() == 0 {
			return false
		}
		r.Rem(a, b)
		return true
	})
	shift := func(left bool) lua.LGFunction {
		return func(L *lua.LState) int {
			a := operand(L, 1, "shift")
			n := L.CheckInt(2)
			if n < 0 || (left && a.Sign() != 0 && n > maxBNBits-a.BitLen()) {
				L.RaiseError("BN_%sshift() failed", map[bool]string{true: "l", false: "r"}[left])
			}
			if left {
				push(L, new(big.Int).Lsh(a, uint(n)))
			} else {
				// BN_rshift shifts the magnitude
				r := new(big.Int).Rsh(new(big.Int).Abs(a), uint(n))
				if a.Sign() < 0 {
					r.Neg(r)
				}
				push(L, r)
			}
			return 1
		}
	}
	cmp := func(f func(c int) bool) lua.LGFunction {
		return func(L *lua.LState) int {
			a, b := operand(L, 1, "compare"), operand(L, 2, "compare")
			L.Push(lua.LBool(f(a.Cmp(b))))
			return 1
		}
	}
	toDec := func(L *lua.LState) int {
		L.Push(lua.LString(self(L).String()))
		return 1
	}
	toNumber := func(L *lua.LState) int {
		// BN_get_word: the magnitude, all ones when it does not fit
		a := new(big.Int).Abs(self(L))
		if !a.IsUint64() {
			L.Push(lua.LNumber(math.MaxUint64))
		} else {
			L.Push(lua.LNumber(a.Uint64()))
		}
		return 1
	}

	methods := map[string]lua.LGFunction{
		"set": func(L *lua.LState) int {
			b := self(L)
			if !lua.LVAsBool(L.Get(2)) {
				return bind.Fail(L, "expect a number or a string at #1")
			}
			v, msg := fromArg(L, "bn:set", L.Get(2), L.OptInt(3, 10))
			if v == nil {
				return bind.Fail(L, msg)
			}
			b.Set(v)
			L.Push(L.Get(1))
			return 1
		},
		"to_binary": func(L *lua.LState) int {
			b := self(L)
			raw := new(big.Int).Abs(b).Bytes()
			if L.Get(2) == lua.LNil {
				if len(raw) == 0 {
					return bind.Fail(L, "bn:to_binary: zero has no bytes")
				}
				L.Push(lua.LString(raw))
				return 1
			}
			pad, ok := L.Get(2).(lua.LNumber)
			if !ok {
				return bind.Fail(L, "bn:to_binary: expect a number at #1")
			}
			if pad > maxBNBits/8 && float64(pad) >= float64(len(raw)) {
				// lua-resty-openssl's ffi.new of the padding fails; the
				// worker is not asked for it (a pad of 10^12 crashed it)
				L.RaiseError("not enough memory")
			}
			if int(pad) < len(raw) || int(pad) <= 0 {
				return bind.Fail(L, "bn:to_binary: the number does not fit in the padding")
			}
			out := make([]byte, int(pad))
			copy(out[len(out)-len(raw):], raw)
			L.Push(lua.LString(out))
			return 1
		},
		"to_hex": func(L *lua.LState) int {
			L.Push(lua.LString(bnHex(self(L))))
			return 1
		},
		"to_dec":    toDec,
		"to_number": toNumber,
		"tonumber":  toNumber,
		"is_zero": func(L *lua.LState) int {
			L.Push(lua.LBool(self(L).Sign() == 0))
			return 1
		},
		"is_one": func(L *lua.LState) int {
			L.Push(lua.LBool(self(L).Cmp(big.NewInt(1)) == 0))
			return 1
		},
		"is_odd": func(L *lua.LState) int {
			L.Push(lua.LBool(self(L).Bit(0) == 1))
			return 1
		},
		"is_word": func(L *lua.LState) int {
			b := self(L)
			L.Push(lua.LBool(b.Sign() >= 0 && b.Cmp(word(L.CheckNumber(2))) == 0))
			return 1
		},
		"add": add, "sub": sub, "mul": mul, "div": div, "idiv": div, "mod": mod,
		"sqr": func(L *lua.LState) int {
			a := operand(L, 1, "square")
			push(L, new(big.Int).Mul(a, a))
			return 1
		},
		"gcd": binop("gcd", func(r, a, b *big.Int) bool {
			r.GCD(nil, nil, new(big.Int).Abs(a), new(big.Int).Abs(b))
			return true
		}),
		"exp": binop("exp", func(r, a, b *big.Int) bool {
			if b.Sign() < 0 || tooLong(a, b) {
				return false
			}
			r.Exp(a, b, nil)
			return true
		}),
		"mod_add": modop("add", func(r, a, b *big.Int) { r.Add(a, b) }),
		"mod_sub": modop("sub", func(r, a, b *big.Int) { r.Sub(a, b) }),
		"mod_mul": modop("mul", func(r, a, b *big.Int) { r.Mul(a, b) }),
		"mod_exp": func(L *lua.LState) int {
			a, b, m := operand(L, 1, "exp"), operand(L, 2, "exp"), operand(L, 3, "exp")
			if m.Sign() == 0 || b.Sign() < 0 {
				L.RaiseError("BN_mod_exp failed")
			}
			am := new(big.Int).Abs(m)
			push(L, new(big.Int).Exp(new(big.Int).Mod(a, am), b, am))
			return 1
		},
		"mod_sqr": func(L *lua.LState) int {
			a, m := operand(L, 1, "mod_sqr"), operand(L, 2, "mod_sqr")
			if m.Sign() == 0 {
				L.RaiseError("BN_mod_sqr() failed")
			}
			r := new(big.Int).Mul(a, a)
			push(L, r.Mod(r, new(big.Int).Abs(m)))
			return 1
		},
		"lshift": shift(true),
		"rshift": shift(false),
	}
	methods["pow"] = methods["exp"]
	index := L.SetFuncs(L.NewTable(), methods)
	mt.RawSetString("__index", index)
	L.SetFuncs(mt, map[string]lua.LGFunction{
		"__tostring": toDec,
		"__add":      add,
		"__sub":      sub,
		"__mul":      mul,
		"__div":      div,
		"__mod":      mod,
		"__unm": func(L *lua.LState) int {
			push(L, new(big.Int).Neg(self(L)))
			return 1
		},
		"__eq": cmp(func(c int) bool { return c == 0 }),
		"__lt": cmp(func(c int) bool { return c < 0 }),
		"__le": cmp(func(c int) bool { return c <= 0 }),
	})

	L.PreloadModule("resty.openssl.bn", func(L *lua.LState) int {
		mod := L.NewTable()
		// the module also holds the methods, as lua-resty-openssl's does
		index.ForEach(func(k, v lua.LValue) { mod.RawSet(k, v) })
		L.SetFuncs(mod, map[string]lua.LGFunction{
			"new": func(L *lua.LState) int {
				v, msg := fromArg(L, "bn.new", L.Get(1), L.OptInt(2, 10))
				if v == nil {
					return bind.Fail(L, msg)
				}
				push(L, v)
				return 1
			},
			"istype": func(L *lua.LState) int {
				ud, ok := L.Get(1).(*lua.LUserData)
				L.Push(lua.LBool(ok && ud.Metatable == mt))
				return 1
			},
		})
		for name, base := range map[string]int{"from_binary": 2, "from_hex": 16, "from_dec": 10} {
			L.SetField(mod, name, L.NewFunction(func(L *lua.LState) int {
				s, ok := L.Get(1).(lua.LString)
				if !ok {
					return bind.Fail(L, "bn."+name+": expect a string at #1")
				}
				v, err := bnFrom(string(s), base)
				if err != nil {
					return bind.Fail(L, "bn."+name+": "+err.Error())
				}
				push(L, v)
				return 1
			}))
		}
		L.Push(mod)
		return 1
	})
}
