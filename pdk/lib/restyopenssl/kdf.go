package restyopenssl

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"encoding/binary"
	"fmt"
	"hash"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"
)

// resty.openssl.kdf (lua-resty-openssl's OpenSSL 3 EVP_KDF interface),
// Go-backed for PBKDF2 and HKDF:
//   new(typ) -> kdf, or nil and "kdf.new: ..." (typ: "PBKDF2", "HKDF", any
//     case);
//   kdf:derive(outlen, options [, options_count]) -> key, or nil and
//     "kdf:derive: ...". PBKDF2 options: pass, salt, iter (OpenSSL's default
//     2048), digest (default SHA1). HKDF options: key, salt, info, digest
//     (required), mode ("EXTRACT_AND_EXPAND" default, "EXTRACT_ONLY",
//     "EXPAND_ONLY", or OpenSSL's numbers 0, 1, 2);
//   kdf:reset() -> true; kdf:get_provider_name() -> "default";
//   istype(v).
// Not covered: the legacy kdf.derive(options) and other KDF types (scrypt,
// TLS1-PRF, SSKDF...).

const opensslKdfType = "luahost.resty.openssl.kdf"

// maxKdfOut bounds a derived key's length: far above any real use, low
// enough that a wrong number cannot make the host allocate gigabytes.
const maxKdfOut = 1 << 16

type kdfCtx struct {
	typ string // "PBKDF2" or "HKDF"
}

var hkdfModes = map[string]int{"EXTRACT_AND_EXPAND": 0, "EXTRACT_ONLY": 1, "EXPAND_ONLY": 2}

// kdfOpt is options[name] as bytes: a string, or a number as Lua
// converts it; absent is "", false.
func kdfOpt(opts *lua.LTable, name string) (string, bool, error) {
	switch v := opts.RawGetString(name).(type) {
	case *lua.LNilType:
		return "", false, nil
	case lua.LString:
		return string(v), true, nil
	case lua.LNumber:
		return v.String(), true, nil
	default:
		return "", false, fmt.Errorf("option %s: string expected, got %s", name, v.Type())
	}
}

func kdfDigest(opts *lua.LTable, def string) (func() hash.Hash, error) {
	name, ok, err := kdfOpt(opts, "digest")
	if err != nil {
		return nil, err
	}
	if !ok {
		if def == "" {
			return nil, fmt.Errorf("option digest is required")
		}
		name = def
	}
	a, found := opensslAlgs[canonicalAlg(name)]
	if !found {
		return nil, fmt.Errorf("invalid digest type \"%s\"", name)
	}
	return a.newf, nil
}

func (k *kdfCtx) derive(ctx context.Context, outlen int, opts *lua.LTable) ([]byte, error) {
	switch k.typ {
	case "PBKDF2":
		h, err := kdfDigest(opts, "sha1")
		if err != nil {
			return nil, err
		}
		pass, _, err := kdfOpt(opts, "pass")
		if err != nil {
			return nil, err
		}
		salt, _, err := kdfOpt(opts, "salt")
		if err != nil {
			return nil, err
		}
		iter := 2048
		switch v := opts.RawGetString("iter").(type) {
		case *lua.LNilType:
		case lua.LNumber:
			if v < 1 || v > 1<<30 {
				return nil, fmt.Errorf("option iter: %v out of range", v)
			}
			iter = int(v)
		default:
			return nil, fmt.Errorf("option iter: number expected, got %s", v.Type())
		}
		return pbkdf2Key(ctx, h, pass, []byte(salt), iter, outlen)
	default: // HKDF
		h, err := kdfDigest(opts, "")
		if err != nil {
			return nil, err
		}
		key, _, err := kdfOpt(opts, "key")
		if err != nil {
			return nil, err
		}
		salt, _, err := kdfOpt(opts, "salt")
		if err != nil {
			return nil, err
		}
		info, _, err := kdfOpt(opts, "info")
		if err != nil {
			return nil, err
		}
		mode := 0
		switch v := opts.RawGetString("mode").(type) {
		case *lua.LNilType:
		case lua.LNumber:
			mode = int(v)
		case lua.LString:
			m, ok := hkdfModes[strings.ToUpper(string(v))]
			if !ok {
				return nil, fmt.Errorf("option mode: invalid mode \"%s\"", string(v))
			}
			mode = m
		default:
			return nil, fmt.Errorf("option mode: string or number expected, got %s", v.Type())
		}
		switch mode {
		case 0:
			return hkdf.Key(h, []byte(key), []byte(salt), info, outlen)
		case 1:
			// OpenSSL's EXTRACT_ONLY returns the PRK, whose length is the
			// digest's: outlen must be that
			prk, err := hkdf.Extract(h, []byte(key), []byte(salt))
			if err != nil {
				return nil, err
			}
			if outlen != len(prk) {
				return nil, fmt.Errorf("EXTRACT_ONLY derives %d bytes, not %d", len(prk), outlen)
			}
			return prk, nil
		case 2:
			return hkdf.Expand(h, []byte(key), info, outlen)
		default:
			return nil, fmt.Errorf("option mode: invalid mode %d", mode)
		}
	}
}

// OpenKdf registers the preloaded module "resty.openssl.kdf" in L.
func OpenKdf(L *lua.LState) {
	mt := L.NewTypeMetatable(opensslKdfType)
	check := func(L *lua.LState) *kdfCtx { return bind.CheckUserData[*kdfCtx](L, 1, "kdf expected") }
	mt.RawSetString("__index", L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"derive": func(L *lua.LState) int {
			k := check(L)
			outlen := bind.SizeArg(L, 2, 0)
			if outlen < 1 || outlen > maxKdfOut {
				return bind.Fail(L, fmt.Sprintf("kdf:derive: outlen must be between 1 and %d, got %d", maxKdfOut, outlen))
			}
			opts := L.CheckTable(3)
			out, err := k.derive(L.Context(), int(outlen), opts)
			if err != nil {
				return bind.Fail(L, "kdf:derive: "+err.Error())
			}
			L.Push(lua.LString(out))
			return 1
		},
		"reset": func(L *lua.LState) int {
			check(L)
			L.Push(lua.LTrue)
			return 1
		},
		"get_provider_name": func(L *lua.LState) int {
			check(L)
			L.Push(lua.LString("default"))
			return 1
		},
	}))
	L.PreloadModule("resty.openssl.kdf", func(L *lua.LState) int {
		mod := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
			"new": func(L *lua.LState) int {
				typ := strings.ToUpper(luavm.CheckString(L, 1))
				if typ != "PBKDF2" && typ != "HKDF" {
					return bind.Fail(L, fmt.Sprintf("kdf.new: invalid kdf type \"%s\" (luahost supports PBKDF2 and HKDF)", luavm.CheckString(L, 1)))
				}
				L.Push(bind.NewUserData(L, &kdfCtx{typ: typ}, mt))
				return 1
			},
			"istype": func(L *lua.LState) int {
				ud, ok := L.Get(1).(*lua.LUserData)
				L.Push(lua.LBool(ok && ud.Metatable == mt))
				return 1
			},
		})
		L.Push(mod)
		return 1
	})
}

// pbkdf2Key is PBKDF2 (RFC 8018 §5.2) as crypto/pbkdf2.Key computes it,
// but under ctx: iter may be up to 2^30, minutes of work done in Go that
// the worker's deadline must reach (it is checked every pbkdf2Poll
// iterations; nil ctx: never).
func pbkdf2Key(ctx context.Context, h func() hash.Hash, pass string, salt []byte, iter, keyLen int) ([]byte, error) {
	prf := hmac.New(h, []byte(pass))
	size := prf.Size()
	out := make([]byte, 0, (keyLen+size-1)/size*size)
	u := make([]byte, 0, size)
	var idx [4]byte
	for block := uint32(1); len(out) < keyLen; block++ {
		binary.BigEndian.PutUint32(idx[:], block)
		prf.Reset()
		prf.Write(salt)
		prf.Write(idx[:])
		u = prf.Sum(u[:0])
		t := len(out)
		out = append(out, u...)
		for n := 2; n <= iter; n++ {
			if n%pbkdf2Poll == 0 && ctx != nil {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			prf.Reset()
			prf.Write(u)
			u = prf.Sum(u[:0])
			for i, b := range u {
				out[t+i] ^= b
			}
		}
	}
	return out[:keyLen], nil
}

// pbkdf2Poll: how many iterations between two looks at the deadline
// (a few hundred microseconds of SHA-256).
const pbkdf2Poll = 1 << 10
