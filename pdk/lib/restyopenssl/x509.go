package restyopenssl

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/pdk/bind"
)

// resty.openssl.x509 and resty.openssl.x509.chain, the part plugins use to
// hand kong.client.tls.request_client_certificate its CA list:
//
//	x509.new(text [, fmt]) -> cert | nil, err   (fmt "PEM", "DER" or "*", the default)
//	cert:to_PEM(), cert:tostring([fmt]), cert:digest([alg = "sha1"]),
//	cert:get_not_before(), cert:get_not_after()  (unix seconds)
//	chain.new() -> chain; chain:add(cert) -> true | nil, err; chain:all();
//	#chain; chain[i] -> cert
//
// As in lua-resty-openssl, an object is a table whose ctx field is the
// native value (an X509*, a STACK_OF(X509)*): here userdata holding the
// Go certificate and the list; chain.ctx is what request_client_certificate
// takes (ChainCertificates). Creating a certificate (x509.new() without
// text) is not supported.

const (
	x509CtxType  = "luahost.resty.openssl.x509.ctx"
	chainCtxType = "luahost.resty.openssl.x509.chain.ctx"
)

// certChain is a chain's native stack.
type certChain struct{ certs []*x509.Certificate }

// ChainCertificates returns the certificates of a resty.openssl.x509.chain
// object's ctx (chain.ctx); false for any other value.
func ChainCertificates(v lua.LValue) ([]*x509.Certificate, bool) {
	ud, ok := v.(*lua.LUserData)
	if !ok {
		return nil, false
	}
	ch, ok := ud.Value.(*certChain)
	if !ok {
		return nil, false
	}
	return ch.certs, true
}

// parseCert reads one certificate in fmt.
func parseCert(text []byte, format string) (*x509.Certificate, error) {
	if format == "PEM" || format == "*" {
		if b, _ := pem.Decode(text); b != nil && b.Type == "CERTIFICATE" {
			return x509.ParseCertificate(b.Bytes)
		}
		if format == "PEM" {
			return nil, errors.New("PEM_read_bio_X509() failed: no start line")
		}
	}
	c, err := x509.ParseCertificate(text)
	if err != nil {
		return nil, errors.New("d2i_X509_bio() failed: " + err.Error())
	}
	return c, nil
}

// OpenX509 registers the preloaded modules "resty.openssl.x509" and
// "resty.openssl.x509.chain" in L.
func OpenX509(L *lua.LState) {
	ctxMT := L.NewTypeMetatable(x509CtxType)
	chainCtxMT := L.NewTypeMetatable(chainCtxType)
	certMT := L.NewTable()
	certOf := func(L *lua.LState, n int) *x509.Certificate {
		if t, ok := L.Get(n).(*lua.LTable); ok {
			if ud, ok := t.RawGetString("ctx").(*lua.LUserData); ok {
				if c, ok := ud.Value.(*x509.Certificate); ok {
					return c
				}
			}
		}
		return nil
	}
	newCert := func(L *lua.LState, c *x509.Certificate) *lua.LTable {
		t := L.CreateTable(0, 1)
		t.RawSetString("ctx", bind.NewUserData(L, c, ctxMT))
		t.Metatable = certMT
		return t
	}
	check := func(L *lua.LState) *x509.Certificate {
		c := certOf(L, 1)
		if c == nil {
			L.ArgError(1, "x509 expected")
		}
		return c
	}
	toPEM := func(c *x509.Certificate) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
	}
	certMT.RawSetString("__index", L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"to_PEM": func(L *lua.LState) int {
			L.Push(lua.LString(toPEM(check(L))))
			return 1
		},
		"tostring": func(L *lua.LState) int {
			c := check(L)
			switch f := L.OptString(2, "PEM"); strings.ToUpper(f) {
			case "PEM":
				L.Push(lua.LString(toPEM(c)))
			case "DER":
				L.Push(lua.LString(c.Raw))
			default:
				return bind.Fail(L, "x509:tostring: can only write PEM or DER format, not "+f)
			}
			return 1
		},
		"digest": func(L *lua.LState) int {
			c := check(L)
			name := L.OptString(2, "sha1")
			a, ok := opensslAlgs[canonicalAlg(name)]
			if !ok {
				return bind.Fail(L, "x509:digest: invalid digest type \""+name+"\"")
			}
			h := a.newf()
			h.Write(c.Raw)
			L.Push(lua.LString(h.Sum(nil)))
			return 1
		},
		"get_not_before": func(L *lua.LState) int {
			L.Push(lua.LNumber(check(L).NotBefore.Unix()))
			return 1
		},
		"get_not_after": func(L *lua.LState) int {
			L.Push(lua.LNumber(check(L).NotAfter.Unix()))
			return 1
		},
	}))

	L.PreloadModule("resty.openssl.x509", func(L *lua.LState) int {
		mod := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
			"new": func(L *lua.LState) int {
				switch v := L.Get(1).(type) {
				case lua.LString:
					format := strings.ToUpper(L.OptString(2, "*"))
					if format != "PEM" && format != "DER" && format != "*" {
						return bind.Fail(L, "x509.new: expect fmt to be \"PEM\", \"DER\" or \"*\"")
					}
					c, err := parseCert([]byte(v), format)
					if err != nil {
						return bind.Fail(L, "x509.new: "+err.Error())
					}
					L.Push(newCert(L, c))
					return 1
				case *lua.LNilType:
					return bind.Fail(L, "x509.new: creating a certificate is not supported (luahost)")
				}
				return bind.Fail(L, "x509.new: expect nil or a string at #1")
			},
			"istype": func(L *lua.LState) int {
				L.Push(lua.LBool(certOf(L, 1) != nil))
				return 1
			},
		})
		L.Push(mod)
		return 1
	})

	chainMT := L.NewTable()
	chainOf := func(L *lua.LState, n int) *certChain {
		if t, ok := L.Get(n).(*lua.LTable); ok {
			if ud, ok := t.RawGetString("ctx").(*lua.LUserData); ok {
				if ch, ok := ud.Value.(*certChain); ok {
					return ch
				}
			}
		}
		return nil
	}
	checkChain := func(L *lua.LState) *certChain {
		ch := chainOf(L, 1)
		if ch == nil {
			L.ArgError(1, "x509.chain expected")
		}
		return ch
	}
	methods := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"add": func(L *lua.LState) int {
			ch := checkChain(L)
			c := certOf(L, 2)
			if c == nil {
				return bind.Fail(L, "x509.chain:add: expect a x509 instance at #1")
			}
			ch.certs = append(ch.certs, c)
			L.Push(lua.LTrue)
			return 1
		},
		"all": func(L *lua.LState) int {
			ch := checkChain(L)
			t := L.CreateTable(len(ch.certs), 0)
			for _, c := range ch.certs {
				t.Append(newCert(L, c))
			}
			L.Push(t)
			return 1
		},
	})
	chainMT.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		ch := checkChain(L)
		if n, ok := L.Get(2).(lua.LNumber); ok {
			i := int(n)
			if float64(i) == float64(n) && i >= 1 && i <= len(ch.certs) {
				L.Push(newCert(L, ch.certs[i-1]))
				return 1
			}
			return 0
		}
		L.Push(methods.RawGet(L.Get(2)))
		return 1
	}))
	chainMT.RawSetString("__len", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(len(checkChain(L).certs)))
		return 1
	}))

	L.PreloadModule("resty.openssl.x509.chain", func(L *lua.LState) int {
		mod := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
			"new": func(L *lua.LState) int {
				t := L.CreateTable(0, 2)
				t.RawSetString("stack_of", lua.LString("X509"))
				t.RawSetString("ctx", bind.NewUserData(L, &certChain{}, chainCtxMT))
				t.Metatable = chainMT
				L.Push(t)
				return 1
			},
			"istype": func(L *lua.LState) int {
				L.Push(lua.LBool(chainOf(L, 1) != nil))
				return 1
			},
		})
		L.Push(mod)
		return 1
	})
}
