package request

import (
	"crypto/x509"
	"encoding/pem"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/lib/restyopenssl"
)

// kong.client.tls (kong/pdk/client/tls.lua). The certificate phase's
// functions act on the handshake the host bound (BeginHandshake); the
// later ones read the request's TLS connection through the proxy.

// The phase sets of tls.lua.
const (
	// rewriteAndLater is REWRITE_AND_LATER.
	rewriteAndLater = PhaseRewrite | PhaseAccess | PhaseResponse | PhaseBalancer | PhaseLog
	// rewriteBeforeLog is REWRITE_BEFORE_LOG.
	rewriteBeforeLog = PhaseRewrite | PhaseAccess | PhaseResponse | PhaseBalancer
)

// keyClientVerifyOverride is ngx.ctx.CLIENT_VERIFY_OVERRIDE, what
// set_client_verify leaves for kong.log.serialize.
var keyClientVerifyOverride = luavm.NewKey("CLIENT_VERIFY_OVERRIDE")

func (s *State) newKongClientTLS() *lua.LTable {
	L := s.L
	t := L.NewTable()
	L.SetFuncs(t, map[string]lua.LGFunction{
		"request_client_certificate":        s.tlsRequestClientCertificate,
		"disable_session_reuse":             s.tlsDisableSessionReuse,
		"get_full_client_certificate_chain": s.tlsGetFullClientCertificateChain,
		"set_client_verify":                 s.tlsSetClientVerify,
	})
	return t
}

// tlsRequestClientCertificate is request_client_certificate([ca_certs]):
// ngx.ssl.verify_client(ca_certs, 0). ca_certs is a STACK_OF(X509)
// pointer in Kong (chain.ctx of resty.openssl.x509.chain); anything else
// is refused as LuaJIT's FFI refuses to convert it.
func (s *State) tlsRequestClientCertificate(L *lua.LState) int {
	s.check(L, PhaseCertificate)
	arg := L.Get(1)
	var cas []*x509.Certificate
	if arg != lua.LNil {
		certs, ok := restyopenssl.ChainCertificates(arg)
		if !ok {
			raise(L, "bad argument #2 to 'ngx_http_lua_ffi_ssl_verify_client' (cannot convert '"+
				luaTypeName(arg)+"' to 'void *')")
		}
		cas = certs
	}
	if s.hs == nil {
		// lua-nginx-module: the phase has no TLS connection
		L.Push(lua.LNil)
		L.Push(lua.LString("bad request"))
		return 2
	}
	s.hs.RequestClientCertificate(cas)
	L.Push(lua.LTrue)
	return 1
}

// luaTypeName is LuaJIT's name of a value's type in FFI conversion errors.
func luaTypeName(v lua.LValue) string {
	if v.Type() == lua.LTUserData {
		return "userdata"
	}
	return v.Type().String()
}

// tlsDisableSessionReuse is disable_session_reuse().
func (s *State) tlsDisableSessionReuse(L *lua.LState) int {
	s.check(L, PhaseCertificate)
	if s.hs == nil {
		L.Push(lua.LNil)
		L.Push(lua.LString("server does not have TLS enabled"))
		return 2
	}
	s.hs.DisableSessionReuse()
	L.Push(lua.LTrue)
	return 1
}

// tlsGetFullClientCertificateChain is get_full_client_certificate_chain():
// the client's certificate and the chain it sent after it, PEM, as
// PEM_write_bio_X509 writes them; nil when the client sent none; nil and
// resty.kong.tls's message on a plain connection.
func (s *State) tlsGetFullClientCertificateChain(L *lua.LState) int {
	s.check(L, rewriteAndLater)
	if s.c == nil {
		L.Push(lua.LNil)
		L.Push(lua.LString("connection is not TLS or TLS support for Nginx not enabled"))
		return 2
	}
	certs, err := s.c.ClientCertificates()
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString("connection is not TLS or TLS support for Nginx not enabled"))
		return 2
	}
	if len(certs) == 0 {
		L.Push(lua.LNil)
		return 1
	}
	var b strings.Builder
	for _, c := range certs {
		b.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// tlsSetClientVerify is set_client_verify(v): what kong.log.serialize
// reports as request.tls.client_verify ("SUCCESS", "NONE" or
// "FAILED:<reason>"); $ssl_client_verify itself is not changed, as in
// Kong.
func (s *State) tlsSetClientVerify(L *lua.LState) int {
	s.check(L, rewriteBeforeLog)
	v, ok := L.Get(1).(lua.LString)
	if !ok {
		// assert(type(v) == "string"): no position for a C function's error
		L.Error(lua.LString("assertion failed!"), 0)
	}
	if v != "SUCCESS" && v != "NONE" && !strings.HasPrefix(string(v), "FAILED:") {
		raise(L, "unknown client verify value: "+string(v)+
			` accepted values are: "SUCCESS", "NONE" or "FAILED:<reason>"`)
	}
	s.in.CtxSet(keyClientVerifyOverride, v)
	return 0
}
