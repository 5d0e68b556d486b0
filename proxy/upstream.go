package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/luahost/luahost/router"
)

// upstreamKey identifies one connection pool: an upstream address with
// the timeouts and retries of the Services using it, and for https the
// TLS settings (SNI, verification, client certificate).
type upstreamKey struct {
	host                 string
	port                 int
	connect, read, write int
	retries              int
	tls                  bool
	sni                  string
	verify               bool
	depth                int
	ca                   string // the Service's ca_certificates ids, comma-joined
	cert                 string // its client_certificate id
}

// dialError marks a failure to connect, which is always safe to retry
// (nothing was sent).
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }
func (e *dialError) Timeout() bool {
	var ne net.Error
	return errors.As(e.err, &ne) && ne.Timeout()
}

// client returns the keep-alive pool for a Service's upstream, built on
// first use and reused by every later request.
// A balanced request's clients make one attempt each: the retries go to
// the balancer's next address (do).
func (p *Proxy) client(s *router.Service, up *Upstream, balanced bool) *fasthttp.HostClient {
	k := upstreamKey{host: up.Hostname, port: up.Port,
		connect: s.ConnectTimeout, read: s.ReadTimeout, write: s.WriteTimeout, retries: s.Retries}
	if balanced {
		k.retries = 0
	}
	if up.Scheme == "https" {
		k.tls = true
		k.sni = sniName(up.Host)
		k.verify = s.TLSVerify != nil && *s.TLSVerify
		k.depth = 1 // nginx's proxy_ssl_verify_depth
		if s.TLSVerifyDepth != nil {
			k.depth = *s.TLSVerifyDepth
		}
		if len(s.CACertificates) > 0 {
			k.ca = strings.Join(s.CACertificates, ",")
		}
		k.cert = s.ClientCertID
	}
	if c, ok := p.clients.Load(k); ok {
		return c.(*fasthttp.HostClient)
	}
	c, _ := p.clients.LoadOrStore(k, p.newClient(k))
	return c.(*fasthttp.HostClient)
}

// sniName is nginx's proxy_ssl_name $upstream_host: the Host sent
// upstream without its port.
func sniName(host string) string {
	if strings.HasPrefix(host, "[") {
		if i := strings.IndexByte(host, ']'); i >= 0 {
			return host[1:i]
		}
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 && strings.IndexByte(host, ':') == i {
		return host[:i]
	}
	return host
}

func ms(n int) time.Duration {
	if n <= 0 {
		return 60 * time.Second // Kong's default for the three timeouts
	}
	return time.Duration(n) * time.Millisecond
}

func (p *Proxy) newClient(k upstreamKey) *fasthttp.HostClient {
	maxConns := p.cfg.MaxConnsPerUpstream
	if maxConns <= 0 {
		maxConns = 4096
	}
	d := &net.Dialer{Timeout: ms(k.connect), KeepAlive: 30 * time.Second}
	// timedConn bounds each read and write; fasthttp's own deadlines,
	// which it ignores, cost two clock reads a request, so they are off
	// for a plain upstream (for a TLS one fasthttp bounds the handshake
	// with WriteTimeout).
	rt, wt := ms(k.read), ms(k.write)
	if !k.tls {
		rt, wt = 0, 0
	}
	return &fasthttp.HostClient{
		Addr: net.JoinHostPort(k.host, strconv.Itoa(k.port)),
		Dial: func(addr string) (net.Conn, error) {
			dial := p.cfg.Dial
			if dial == nil {
				dial = func(addr string) (net.Conn, error) { return d.Dial("tcp", addr) }
			}
			conn, err := dial(addr)
			if err != nil {
				return nil, &dialError{err}
			}
			tc := &timedConn{Conn: conn, read: ms(k.read), write: ms(k.write)}
			tc.held.init(conn) // fasthttp's HTTP/1.1: a request, then its response
			return tc, nil
		},
		MaxConns:                      maxConns,
		MaxIdleConnDuration:           60 * time.Second, // Kong's upstream_keepalive_idle_timeout
		ReadTimeout:                   rt,
		WriteTimeout:                  wt,
		MaxIdemponentCallAttempts:     k.retries + 1,
		RetryIfErr:                    retryIf,
		NoDefaultUserAgentHeader:      true,
		DisableHeaderNamesNormalizing: true,
		DisablePathNormalizing:        true,
		MaxConnWaitTimeout:            ms(k.connect),
		IsTLS:                         k.tls,
		TLSConfig:                     p.tlsConfig(k),
	}
}

// tlsConfig is the TLS of an https upstream as Kong 3 sets it from the
// Service (kong/runloop/upstream_ssl.lua): SNI the upstream Host; no
// verification unless tls_verify is true (Kong's proxy_ssl_verify off);
// then the chain is checked against the Service's ca_certificates (the
// system's roots without them) to at most tls_verify_depth intermediate
// CAs (nginx's proxy_ssl_verify_depth, 1 by default), and the name against
// the SNI; client_certificate is presented when the Config can look it up.
func (p *Proxy) tlsConfig(k upstreamKey) *tls.Config {
	if !k.tls {
		return nil
	}
	cfg := &tls.Config{ServerName: k.sni, InsecureSkipVerify: true} //nolint:gosec // verified below when tls_verify is on
	if k.cert != "" {
		if p.cfg.ClientCertificate == nil {
			p.logTLS("no lookup for client certificates: none presented", k, nil)
		} else if cert, err := p.cfg.ClientCertificate(k.cert); err != nil {
			p.logTLS("unable to fetch upstream client TLS certificate", k, err)
		} else {
			cfg.Certificates = []tls.Certificate{*cert}
		}
	}
	if !k.verify {
		return cfg
	}
	var roots *x509.CertPool
	if k.ca != "" {
		roots = x509.NewCertPool()
		for _, id := range strings.Split(k.ca, ",") {
			var pem []byte
			var err error
			if p.cfg.CACertificate == nil {
				err = errors.New("no lookup for ca_certificates")
			} else {
				pem, err = p.cfg.CACertificate(id)
			}
			if err == nil && !roots.AppendCertsFromPEM(pem) {
				err = errors.New("no certificate in its PEM")
			}
			if err != nil {
				p.logTLS("unable to get upstream TLS CA certificate "+id, k, err)
			}
		}
	}
	name, depth := k.sni, k.depth
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("upstream SSL certificate verify error: no certificate")
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		chains, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
			Roots: roots, Intermediates: inter, DNSName: name,
		})
		if err != nil {
			return fmt.Errorf("upstream SSL certificate verify error: %w", err)
		}
		for _, ch := range chains {
			if len(ch)-2 <= depth {
				return nil
			}
		}
		return errors.New("upstream SSL certificate verify error: certificate chain too long")
	}
	return cfg
}

func (p *Proxy) logTLS(msg string, k upstreamKey, err error) {
	if l := p.cfg.Logger; l != nil {
		l.Error(msg, "upstream", net.JoinHostPort(k.host, strconv.Itoa(k.port)), "err", err)
	}
}

func isDialError(err error) bool {
	var de *dialError
	return errors.As(err, &de)
}

// timedConn is an upstream connection on which read_timeout and
// write_timeout bound each read and each write, as nginx's
// proxy_read_timeout and proxy_send_timeout bound the time between two
// successive operations; fasthttp's own deadlines (one for a whole
// response, one for a whole request) are ignored, so that a body streamed
// for longer than the timeout is not cut.
//
// Setting a deadline is a timer update in the runtime's poller (the
// largest cost of a read or write after the system call): a deadline is
// moved only when it would come more than a 64th of its timeout early
// (under a second for Kong's 60 s), so that on a busy connection it moves
// once per many operations, and an idle one still times out between 63/64
// of the timeout and the timeout after its last operation.
//
// The time is read on the monotonic clock only (monoNow), which the
// deadlines are measured on anyway: time.Now reads the wall clock too, a
// second clock read at every operation.
type timedConn struct {
	net.Conn
	read, write     time.Duration
	readAt, writeAt time.Duration // the deadlines set, on monoNow's clock (0: none)
	// held: a whole request, sent by the read of its response
	// (heldwrite.go); only on the connections of fasthttp's HTTP/1.1
	// client, which writes a request and then reads its response. Its
	// answer is when bytes were last read.
	held heldWrite
}

func (c *timedConn) Read(p []byte) (int, error) {
	now := monoNow()
	if c.readAt-now < c.read-c.read/64 {
		c.readAt = now + c.read
		if err := c.Conn.SetReadDeadline(monoStart.Add(c.readAt)); err != nil {
			return 0, err
		}
	}
	var n int
	var err error
	if c.held.pending() {
		n, err = c.held.read(c.Conn, p)
	} else {
		n, err = c.Conn.Read(p)
	}
	if n > 0 {
		c.held.answer = now
	}
	return n, err
}

func (c *timedConn) Write(p []byte) (int, error) {
	now := monoNow()
	if c.writeAt-now < c.write-c.write/64 {
		c.writeAt = now + c.write
		if err := c.Conn.SetWriteDeadline(monoStart.Add(c.writeAt)); err != nil {
			return 0, err
		}
	}
	if c.held.pending() {
		if err := c.held.flush(c.Conn); err != nil {
			return 0, err
		}
	} else if c.held.hold(p, now) {
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// monoStart is the origin of monoNow's clock; monoStart.Add(d) is the
// time.Time d after it, with its monotonic reading (what a deadline is
// measured by: time.Until).
var monoStart = time.Now()

// monoNow is the time since monoStart, from one read of the monotonic
// clock.
func monoNow() time.Duration { return time.Since(monoStart) }

func (c *timedConn) SetDeadline(time.Time) error      { return nil }
func (c *timedConn) SetReadDeadline(time.Time) error  { return nil }
func (c *timedConn) SetWriteDeadline(time.Time) error { return nil }

// retryIf retries what Kong's balancer retries without risk: a connection
// that could not be made, or a kept-alive one the upstream had closed
// before answering (for idempotent methods).
func retryIf(req *fasthttp.Request, _ int, err error) (resetTimeout, retry bool) {
	var de *dialError
	if errors.As(err, &de) {
		return true, true
	}
	if errors.Is(err, io.EOF) || errors.Is(err, fasthttp.ErrConnectionClosed) {
		h := &req.Header
		return true, h.IsGet() || h.IsHead() || h.IsPut() || h.IsDelete() || h.IsOptions()
	}
	return false, false
}

// isTimeout tells a 504 (connect, read or write timeout) from a 502.
func isTimeout(err error) bool {
	if errors.Is(err, fasthttp.ErrTimeout) || errors.Is(err, fasthttp.ErrDialTimeout) ||
		errors.Is(err, fasthttp.ErrNoFreeConns) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
