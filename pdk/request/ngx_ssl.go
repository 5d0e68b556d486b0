package request

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/netip"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"
	"github.com/luahost/luahost/proxy"
)

// The module "ngx.ssl" (lua-resty-core's lib/ngx/ssl.lua), the part
// crypto/tls can do faithfully: the connection's SNI, addresses and
// protocol version, and in the certificate phase the certificate the
// handshake presents (clear_certs, set_der_cert, set_der_priv_key, which
// Kong's acme plugin calls); PEM to DER. Each function reads the
// handshake in the certificate phase and the request's connection in the
// request's phases; on a plain connection it answers nil and "bad
// request", outside both it raises "no request found", as
// lua-nginx-module's FFI functions and their Lua wrappers do.
// ngx.ssl's cdata functions (parse_*_cert/key, set_cert, set_priv_key,
// verify_client, the session and keying-material ones) raise "not
// supported by luahost": kong.client.tls stands for verify_client.

// sslVersions are ngx.ssl's version constants and get_tls1_version_str's
// names.
var sslVersions = []struct {
	name, str string
	v         uint16
}{
	{"SSL3_VERSION", "SSLv3", 0x0300},
	{"TLS1_VERSION", "TLSv1", 0x0301},
	{"TLS1_1_VERSION", "TLSv1.1", 0x0302},
	{"TLS1_2_VERSION", "TLSv1.2", 0x0303},
	{"TLS1_3_VERSION", "TLSv1.3", 0x0304},
}

const errBadRequest = "bad request"

// sslConn is what ngx.ssl's functions act on: the handshake (certificate
// phase) or the request's TLS connection; ok false on a plain connection.
// It raises outside a request and a handshake.
type sslConn struct {
	hs          *proxy.Handshake
	local, peer net.Addr
	version     uint16
	serverName  string
}

func (s *State) sslConn(L *lua.LState) (sslConn, bool) {
	if s.hs != nil && s.hs.Hello != nil {
		h := s.hs
		sc := sslConn{hs: h, version: h.Version(), serverName: h.Hello.ServerName}
		if h.Hello.Conn != nil {
			sc.local, sc.peer = h.Hello.Conn.LocalAddr(), h.Hello.Conn.RemoteAddr()
		}
		return sc, true
	}
	if s.c == nil {
		raise(L, "no request found")
	}
	cs, ok := s.c.TLSState()
	if !ok {
		return sslConn{}, false
	}
	return sslConn{local: s.c.RequestCtx.LocalAddr(), peer: s.c.RequestCtx.RemoteAddr(), version: cs.Version,
		serverName: cs.ServerName}, true
}

// openNgxSSL preloads "ngx.ssl".
func (s *State) openNgxSSL() {
	s.L.PreloadModule("ngx.ssl", func(L *lua.LState) int {
		m := L.NewTable()
		L.SetFuncs(m, map[string]lua.LGFunction{
			"server_name":          s.sslServerName,
			"server_port":          s.sslServerPort,
			"raw_server_addr":      func(L *lua.LState) int { return s.sslRawAddr(L, true) },
			"raw_client_addr":      func(L *lua.LState) int { return s.sslRawAddr(L, false) },
			"get_tls1_version":     s.sslTLS1Version,
			"get_tls1_version_str": s.sslTLS1VersionStr,
			"clear_certs":          s.sslClearCerts,
			"set_der_cert":         s.sslSetDERCert,
			"set_der_priv_key":     s.sslSetDERPrivKey,
			"cert_pem_to_der":      sslCertPEMToDER,
			"priv_key_pem_to_der":  sslPrivKeyPEMToDER,
		})
		for _, name := range []string{"parse_pem_cert", "parse_pem_priv_key", "parse_der_cert",
			"parse_der_priv_key", "set_cert", "set_priv_key", "verify_client", "export_keying_material",
			"export_keying_material_early", "get_req_ssl_pointer", "get_upstream_ssl_pointer",
			"ssl_session_reused", "get_client_random", "get_server_random", "get_session_master_key"} {
			name := name
			m.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
				raise(L, "ngx.ssl."+name+" is not supported by luahost")
				return 0
			}))
		}
		for _, v := range sslVersions {
			m.RawSetString(v.name, lua.LNumber(v.v))
		}
		L.Push(m)
		return 1
	})
}

func (s *State) sslServerName(L *lua.LState) int {
	sc, ok := s.sslConn(L)
	if !ok {
		return bind.Fail(L, errBadRequest)
	}
	if sc.serverName == "" {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LString(sc.serverName))
	return 1
}

func (s *State) sslServerPort(L *lua.LState) int {
	sc, ok := s.sslConn(L)
	if !ok {
		return bind.Fail(L, errBadRequest)
	}
	switch a := sc.local.(type) {
	case *net.TCPAddr:
		L.Push(lua.LNumber(a.Port))
		return 1
	case *net.UnixAddr:
		return bind.Fail(L, "unix domain has no port")
	}
	return bind.Fail(L, errBadRequest)
}

// sslRawAddr is raw_server_addr (local) or raw_client_addr: the address
// in binary (4 or 16 bytes, a unix socket's path) and its type, or nil,
// nil, err.
func (s *State) sslRawAddr(L *lua.LState, local bool) int {
	sc, ok := s.sslConn(L)
	a := sc.peer
	if local {
		a = sc.local
	}
	if !ok || a == nil {
		L.Push(lua.LNil)
		L.Push(lua.LNil)
		L.Push(lua.LString(errBadRequest))
		return 3
	}
	switch a := a.(type) {
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		ip = ip.Unmap()
		b := ip.AsSlice()
		L.Push(lua.LString(b))
		if ip.Is4() {
			L.Push(lua.LString("inet"))
		} else {
			L.Push(lua.LString("inet6"))
		}
	case *net.UnixAddr:
		L.Push(lua.LString(a.Name))
		L.Push(lua.LString("unix"))
	default:
		L.Push(lua.LNil)
		L.Push(lua.LNil)
		L.Push(lua.LString(errBadRequest))
		return 3
	}
	return 2
}

func (s *State) sslTLS1Version(L *lua.LState) int {
	sc, ok := s.sslConn(L)
	if !ok {
		return bind.Fail(L, errBadRequest)
	}
	L.Push(lua.LNumber(sc.version))
	return 1
}

func (s *State) sslTLS1VersionStr(L *lua.LState) int {
	sc, ok := s.sslConn(L)
	if !ok {
		return bind.Fail(L, errBadRequest)
	}
	for _, v := range sslVersions {
		if v.v == sc.version {
			L.Push(lua.LString(v.str))
			return 1
		}
	}
	return bind.Fail(L, "unknown version")
}

// The certificate setters act on the handshake in the certificate phase;
// after it (a request on a TLS connection) OpenSSL accepts them and they
// change nothing.

func (s *State) sslClearCerts(L *lua.LState) int {
	sc, ok := s.sslConn(L)
	if !ok {
		return bind.Fail(L, errBadRequest)
	}
	if sc.hs != nil {
		sc.hs.ClearCerts()
	}
	L.Push(lua.LTrue)
	return 1
}

func (s *State) sslSetDERCert(L *lua.LState) int {
	der := luavm.CheckString(L, 1)
	sc, ok := s.sslConn(L)
	if !ok {
		return bind.Fail(L, errBadRequest)
	}
	if sc.hs != nil {
		if err := sc.hs.SetCertDER([]byte(der)); err != nil {
			return bind.Fail(L, err.Error())
		}
	} else if _, err := x509.ParseCertificates([]byte(der)); err != nil || der == "" {
		return bind.Fail(L, proxy.ErrDERCert.Error())
	}
	L.Push(lua.LTrue)
	return 1
}

func (s *State) sslSetDERPrivKey(L *lua.LState) int {
	der := luavm.CheckString(L, 1)
	sc, ok := s.sslConn(L)
	if !ok {
		return bind.Fail(L, errBadRequest)
	}
	key, err := parseDERPrivateKey([]byte(der))
	if err != nil {
		return bind.Fail(L, "d2i_PrivateKey_bio() failed")
	}
	if sc.hs != nil {
		if err := sc.hs.SetPrivateKey(key); err != nil {
			return bind.Fail(L, err.Error())
		}
	}
	L.Push(lua.LTrue)
	return 1
}

// parseDERPrivateKey reads a private key as d2i_PrivateKey_bio does:
// OpenSSL's traditional forms (PKCS#1 RSA, SEC 1 EC) or PKCS#8.
func parseDERPrivateKey(der []byte) (crypto.PrivateKey, error) {
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return x509.ParsePKCS8PrivateKey(der)
}

// sslCertPEMToDER is cert_pem_to_der(pem): the PEM's certificates in DER,
// one after the other; nil and lua-nginx-module's message when the first
// is missing or broken.
func sslCertPEMToDER(L *lua.LState) int {
	rest := []byte(luavm.CheckString(L, 1))
	var out []byte
	first := true
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE":
		default:
			continue
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			if first {
				return bind.Fail(L, "PEM_read_bio_X509_AUX() failed")
			}
			return bind.Fail(L, "PEM_read_bio_X509() failed")
		}
		out = append(out, b.Bytes...)
		first = false
	}
	if first {
		return bind.Fail(L, "PEM_read_bio_X509_AUX() failed")
	}
	L.Push(lua.LString(out))
	return 1
}

// sslPrivKeyPEMToDER is priv_key_pem_to_der(pem, passphrase): the key in
// DER as i2d_PrivateKey writes it (PKCS#1 for RSA, SEC 1 for EC, PKCS#8
// for the others). A passphrase opens the legacy encrypted PEM
// (Proc-Type: 4,ENCRYPTED) only.
func sslPrivKeyPEMToDER(L *lua.LState) int {
	rest := []byte(luavm.CheckString(L, 1))
	pass := L.OptString(2, "")
	const failed = "PEM_read_bio_PrivateKey() failed"
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return bind.Fail(L, failed)
		}
		switch b.Type {
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
		default:
			continue
		}
		der := b.Bytes
		//nolint:staticcheck // legacy PEM encryption is what OpenSSL's PEM_read_bio_PrivateKey opens too
		if x509.IsEncryptedPEMBlock(b) {
			d, err := x509.DecryptPEMBlock(b, []byte(pass))
			if err != nil {
				return bind.Fail(L, failed)
			}
			der = d
		}
		key, err := parseDERPrivateKey(der)
		if err != nil {
			return bind.Fail(L, failed)
		}
		var out []byte
		switch k := key.(type) {
		case *rsa.PrivateKey:
			out = x509.MarshalPKCS1PrivateKey(k)
		case *ecdsa.PrivateKey:
			out, err = x509.MarshalECPrivateKey(k)
		case ed25519.PrivateKey:
			out, err = x509.MarshalPKCS8PrivateKey(k)
		default:
			out, err = x509.MarshalPKCS8PrivateKey(k)
		}
		if err != nil {
			return bind.Fail(L, "i2d_PrivateKey() failed")
		}
		L.Push(lua.LString(out))
		return 1
	}
}
