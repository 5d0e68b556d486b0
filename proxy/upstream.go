package proxy

import (
	"errors"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/luahost/luahost/router"
)

// upstreamKey identifies one connection pool: an upstream address with
// the timeouts and retries of the Services using it.
type upstreamKey struct {
	host                 string
	port                 int
	connect, read, write int
	retries              int
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
func (p *Proxy) client(s *router.Service, hostname string, port int) *fasthttp.HostClient {
	k := upstreamKey{host: hostname, port: port,
		connect: s.ConnectTimeout, read: s.ReadTimeout, write: s.WriteTimeout, retries: s.Retries}
	if c, ok := p.clients.Load(k); ok {
		return c.(*fasthttp.HostClient)
	}
	c, _ := p.clients.LoadOrStore(k, p.newClient(k))
	return c.(*fasthttp.HostClient)
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
	return &fasthttp.HostClient{
		Addr: net.JoinHostPort(k.host, strconv.Itoa(k.port)),
		Dial: func(addr string) (net.Conn, error) {
			conn, err := d.Dial("tcp", addr)
			if err != nil {
				return nil, &dialError{err}
			}
			return conn, nil
		},
		MaxConns:                      maxConns,
		MaxIdleConnDuration:           60 * time.Second, // Kong's upstream_keepalive_idle_timeout
		ReadTimeout:                   ms(k.read),
		WriteTimeout:                  ms(k.write),
		MaxIdemponentCallAttempts:     k.retries + 1,
		RetryIfErr:                    retryIf,
		NoDefaultUserAgentHeader:      true,
		DisableHeaderNamesNormalizing: true,
		DisablePathNormalizing:        true,
		MaxConnWaitTimeout:            ms(k.connect),
	}
}

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
