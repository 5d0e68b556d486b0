// Package restystring is the lua-resty-string modules, Go-backed:
// resty.md5, resty.sha1, resty.sha224, resty.sha256, resty.sha384,
// resty.sha512 (new(), :update(s), :final() -> binary digest, :reset()),
// resty.string (to_hex, atoi) and resty.random (bytes(n, strong)).
// resty.aes is not provided.
package restystring

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	mrand "math/rand/v2"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"
)

const restyHashType = "luahost.resty.hash"

var restyHashes = []struct {
	module string
	newf   func() hash.Hash
}{
	{"resty.md5", md5.New},
	{"resty.sha1", sha1.New},
	{"resty.sha224", sha256.New224},
	{"resty.sha256", sha256.New},
	{"resty.sha384", sha512.New384},
	{"resty.sha512", sha512.New},
}

// Open registers the resty.* string/digest modules in L; resty.random's
// bytes are charged to budget.
func Open(L *lua.LState, budget *bind.Budget) {
	mt := L.NewTypeMetatable(restyHashType)
	methods := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"update": func(L *lua.LState) int {
			h := checkRestyHash(L)
			h.Write([]byte(luavm.CheckString(L, 2)))
			L.Push(lua.LTrue)
			return 1
		},
		"final": func(L *lua.LState) int {
			h := checkRestyHash(L)
			L.Push(lua.LString(h.Sum(nil)))
			return 1
		},
		"reset": func(L *lua.LState) int {
			checkRestyHash(L).Reset()
			L.Push(lua.LTrue)
			return 1
		},
	})
	mt.RawSetString("__index", methods)

	for _, rh := range restyHashes {
		newf := rh.newf
		L.PreloadModule(rh.module, func(L *lua.LState) int {
			m := L.NewTable()
			m.RawSetString("_VERSION", lua.LString("0.15"))
			// new is called as mod:new() in lua-resty-string; a plain
			// mod.new() works too.
			m.RawSetString("new", L.NewFunction(func(L *lua.LState) int {
				ud := bind.NewUserData(L, newf(), mt)
				L.Push(ud)
				return 1
			}))
			L.Push(m)
			return 1
		})
	}

	L.PreloadModule("resty.string", func(L *lua.LState) int {
		m := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
			"to_hex": func(L *lua.LState) int {
				L.Push(lua.LString(hex.EncodeToString([]byte(luavm.CheckString(L, 1)))))
				return 1
			},
			// atoi is C's atoi: leading blanks, an optional sign, then digits
			// up to the first non-digit (0 when there are none).
			"atoi": func(L *lua.LState) int {
				L.Push(lua.LNumber(cAtoi(luavm.CheckString(L, 1))))
				return 1
			},
		})
		m.RawSetString("_VERSION", lua.LString("0.15"))
		L.Push(m)
		return 1
	})

	L.PreloadModule("resty.random", func(L *lua.LState) int {
		m := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
			// bytes(n, strong): n random bytes; crypto/rand when strong,
			// otherwise a fast PRNG (OpenSSL's RAND_pseudo_bytes in spirit).
			"bytes": func(L *lua.LState) int {
				n := bind.ClampSize(float64(L.CheckNumber(1)))
				if n < 0 {
					L.ArgError(1, "length must be non-negative")
				}
				budget.Reserve(L, n, 1)
				b := make([]byte, n)
				if L.ToBool(2) {
					if _, err := rand.Read(b); err != nil {
						L.Push(lua.LNil)
						return 1
					}
				} else {
					for i := range b {
						b[i] = byte(mrand.Uint32())
					}
				}
				L.Push(lua.LString(b))
				return 1
			},
		})
		m.RawSetString("_VERSION", lua.LString("0.15"))
		L.Push(m)
		return 1
	})
}

func checkRestyHash(L *lua.LState) hash.Hash {
	return bind.CheckUserData[hash.Hash](L, 1, "digest object expected (called with '.' instead of ':'?)")
}

// cAtoi is C's atoi on s (an out-of-range number gives 0).
func cAtoi(s string) int64 {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	end := 0
	if end < len(s) && (s[end] == '+' || s[end] == '-') {
		end++
	}
	start := end
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	if end == start {
		return 0
	}
	n, err := strconv.ParseInt(s[:end], 10, 64)
	if err != nil {
		return 0
	}
	return n
}
