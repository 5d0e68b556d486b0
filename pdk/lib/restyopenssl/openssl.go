// Package restyopenssl is lua-resty-openssl's digest, mac, kdf, pkey, x509
// and x509.chain modules, Go-backed (openssl.go, kdf.go, pkey.go, x509.go):
// resty.openssl.bn (bn.go) is big integers.
// resty.openssl.digest: new([alg = "sha1"]) -> digest, :update(...) -> true,
// :final([s]) -> binary digest, :reset() -> true.
// resty.openssl.mac: new(key, "HMAC", nil, alg) -> mac with the same
// methods. Algorithms: md5, sha1, sha224, sha256, sha384, sha512 (any case,
// "-" allowed: "SHA-256"). resty.openssl.pkey (pkey.go) signs a digest
// object's state.
package restyopenssl

import (
	"crypto"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"
)

const (
	opensslDigestType = "luahost.resty.openssl.digest"
	opensslMacType    = "luahost.resty.openssl.mac"
)

type opensslHash struct {
	alg  string // canonical lower-case name, "sha256"
	h    hash.Hash
	hash crypto.Hash
}

var opensslAlgs = map[string]struct {
	newf func() hash.Hash
	hash crypto.Hash
}{
	"md5":    {md5.New, crypto.MD5},
	"sha1":   {sha1.New, crypto.SHA1},
	"sha224": {sha256.New224, crypto.SHA224},
	"sha256": {sha256.New, crypto.SHA256},
	"sha384": {sha512.New384, crypto.SHA384},
	"sha512": {sha512.New, crypto.SHA512},
}

func canonicalAlg(s string) string {
	return strings.ReplaceAll(strings.ToLower(s), "-", "")
}

func opensslHashMethods(L *lua.LState, typ string) *lua.LTable {
	check := func(L *lua.LState) *opensslHash { return bind.CheckUserData[*opensslHash](L, 1, typ+" expected") }
	return L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"update": func(L *lua.LState) int {
			h := check(L)
			for i := 2; i <= L.GetTop(); i++ {
				h.h.Write([]byte(luavm.CheckString(L, i)))
			}
			L.Push(lua.LTrue)
			return 1
		},
		"final": func(L *lua.LState) int {
			h := check(L)
			if s, ok := L.Get(2).(lua.LString); ok {
				h.h.Write([]byte(s))
			}
			L.Push(lua.LString(h.h.Sum(nil)))
			return 1
		},
		"reset": func(L *lua.LState) int {
			check(L).h.Reset()
			L.Push(lua.LTrue)
			return 1
		},
		"get_provider_name": func(L *lua.LState) int {
			L.Push(lua.LString("default"))
			return 1
		},
	})
}

// Open registers the preloaded modules "resty.openssl.digest" and
// "resty.openssl.mac" in L.
func Open(L *lua.LState) {
	openBn(L)
	dmt := L.NewTypeMetatable(opensslDigestType)
	dmt.RawSetString("__index", opensslHashMethods(L, "digest"))
	mmt := L.NewTypeMetatable(opensslMacType)
	mmt.RawSetString("__index", opensslHashMethods(L, "mac"))

	L.PreloadModule("resty.openssl.digest", func(L *lua.LState) int {
		mod := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
			"new": func(L *lua.LState) int {
				name := L.OptString(1, "sha1")
				a, ok := opensslAlgs[canonicalAlg(name)]
				if !ok {
					return bind.Fail(L, fmt.Sprintf("digest.new: invalid digest type \"%s\"", name))
				}
				ud := bind.NewUserData(L, &opensslHash{alg: canonicalAlg(name), h: a.newf(), hash: a.hash}, dmt)
				L.Push(ud)
				return 1
			},
			"istype": func(L *lua.LState) int {
				ud, ok := L.Get(1).(*lua.LUserData)
				L.Push(lua.LBool(ok && ud.Metatable == dmt))
				return 1
			},
		})
		L.Push(mod)
		return 1
	})

	L.PreloadModule("resty.openssl.mac", func(L *lua.LState) int {
		mod := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
			// new(key, typ, cipher, digest): only typ "HMAC" is supported.
			"new": func(L *lua.LState) int {
				key := luavm.CheckString(L, 1)
				typ := luavm.CheckString(L, 2)
				if !strings.EqualFold(typ, "HMAC") {
					return bind.Fail(L, fmt.Sprintf("mac.new: invalid mac type \"%s\" (luahost supports HMAC only)", typ))
				}
				name := L.OptString(4, "sha1")
				a, ok := opensslAlgs[canonicalAlg(name)]
				if !ok {
					return bind.Fail(L, fmt.Sprintf("mac.new: invalid digest type \"%s\"", name))
				}
				ud := bind.NewUserData(L, &opensslHash{alg: canonicalAlg(name), h: hmac.New(a.newf, []byte(key)), hash: a.hash}, mmt)
				L.Push(ud)
				return 1
			},
		})
		L.Push(mod)
		return 1
	})
}
