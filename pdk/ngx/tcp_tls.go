package ngx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/luahost/luahost/luavm"
	"github.com/luahost/luahost/pdk/bind"
)

// tlsSession is what sslhandshake returns and takes back as
// reused_session (ngx_lua's ngx_ssl_session_t cdata): the client's
// session state, filled in when the server sends a ticket (with TLS 1.3,
// after the handshake, on a later read). It is the handshake's session
// cache of one entry.
type tlsSession struct {
	mu sync.Mutex
	st *tls.ClientSessionState
}

func (c *tlsSession) Get(string) (*tls.ClientSessionState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st, c.st != nil
}

func (c *tlsSession) Put(_ string, st *tls.ClientSessionState) {
	c.mu.Lock()
	c.st = st
	c.mu.Unlock()
}

// verifyError is a failed certificate check, in ngx_lua's words
// ("18: self-signed certificate", "certificate host mismatch").
type verifyError struct{ msg string }

func (e *verifyError) Error() string { return e.msg }

// verifyText is OpenSSL 3's "<code>: <text>" for a chain Go refused.
func verifyText(err error, leaf *x509.Certificate, n int) string {
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua):
		if n == 1 && leaf.CheckSignatureFrom(leaf) == nil {
			return "18: self-signed certificate"
		}
		if n > 1 {
			return "19: self-signed certificate in certificate chain"
		}
		return "20: unable to get local issuer certificate"
	case errors.As(err, &ci) && ci.Reason == x509.Expired:
		if time.Now().Before(ci.Cert.NotBefore) {
			return "9: certificate is not yet valid"
		}
		return "10: certificate has expired"
	}
	return "certificate verify failed"
}

// tcpSSLHandshake is sslhandshake(reused_session?, server_name?,
// ssl_verify?, send_status_req?): TLS over the connected socket (SNI from
// server_name; with ssl_verify, the chain checked against
// lua_ssl_trusted_certificate or the system's roots and, when given, the
// name). It returns a session to pass back as reused_session, or true
// when reused_session is false; nil, "handshake failed" or the
// verification's message, closing the socket. A connection already in
// TLS (taken from the pool) answers at once.
func tcpSSLHandshake(L *lua.LState) int {
	n := L.GetTop()
	if n < 1 || n > 5 {
		L.RaiseError("ngx.socket sslhandshake: expecting 1 ~ 5 arguments (including the object), but seen %d", n)
	}
	s := checkTCP(L)
	var reuse *tlsSession
	wantSession := true
	switch v := L.Get(2).(type) {
	case lua.LBool:
		wantSession = bool(v)
	case *lua.LUserData:
		reuse, _ = v.Value.(*tlsSession)
	}
	sni := ""
	if v := L.Get(3); v != lua.LNil {
		if _, ok := v.(lua.LString); !ok {
			argError(L, "sslhandshake", 3, "bad server name")
		}
		sni = luavm.CheckString(L, 3)
	}
	verify := lua.LVAsBool(L.Get(4))
	if s.conn == nil {
		return bind.Fail(L, "closed")
	}
	if !s.env.Owner.Owns(s.owner) {
		return bind.Fail(L, "bad request")
	}
	if _, ok := s.conn.(*tls.Conn); !ok {
		sess := &tlsSession{}
		if reuse != nil {
			st, _ := reuse.Get("")
			sess.Put("", st)
		}
		cfg := &tls.Config{
			ServerName:         sni,
			InsecureSkipVerify: true, // checked below, as ngx_lua does after the handshake
			ClientSessionCache: sess,
		}
		if verify {
			roots := s.env.roots()
			cfg.VerifyConnection = func(cs tls.ConnectionState) error {
				certs := cs.PeerCertificates
				if len(certs) == 0 {
					return &verifyError{"certificate verify failed"}
				}
				inter := x509.NewCertPool()
				for _, c := range certs[1:] {
					inter.AddCert(c)
				}
				if _, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter}); err != nil {
					return &verifyError{verifyText(err, certs[0], len(certs))}
				}
				if sni != "" && certs[0].VerifyHostname(sni) != nil {
					return &verifyError{"certificate host mismatch"}
				}
				return nil
			}
		}
		ctx := L.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		ctx, cancel := context.WithTimeout(ctx, s.timeout(s.connectTO))
		defer cancel()
		tc := tls.Client(s.raw, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			msg := "handshake failed"
			var ve *verifyError
			if errors.As(err, &ve) {
				msg = ve.msg
			} else if ctx.Err() != nil {
				msg = "timeout"
			}
			s.finalize()
			return bind.Fail(L, msg)
		}
		s.conn, s.sess = tc, sess
	}
	if !wantSession {
		L.Push(lua.LTrue)
		return 1
	}
	if s.sess == nil {
		s.sess = &tlsSession{}
	}
	L.Push(bind.NewUserData(L, s.sess, lua.LNil))
	return 1
}

// roots is the pool a verifying handshake trusts.
func (e *SocketEnv) roots() *x509.CertPool {
	if e.RootCAs != nil {
		if p := e.RootCAs(); p != nil {
			return p
		}
	}
	p, err := x509.SystemCertPool()
	if err != nil {
		return nil
	}
	return p
}
