package proxy

import (
	"crypto/tls"
	"math"
	"net"
	"net/netip"
	"strings"
	"time"
)

// Config configures a Proxy. The zero value is Kong's defaults with no
// version in the tokens; ConfigFrom-style callers fill it from kong.conf.
type Config struct {
	// KongVersion goes into Server and Via ("kong/<KongVersion>").
	KongVersion string
	// Dial, when set, opens connections to upstreams instead of TCP
	// (benchmarks: an in-memory upstream, so that a figure is the proxy's
	// own CPU without the kernel's).
	Dial func(addr string) (net.Conn, error)
	// Headers are Kong's `headers` (lower case): "server_tokens",
	// "latency_tokens", "x-kong-request-id", "off", or single header names
	// ("via", "server", "x-kong-proxy-latency", ...). nil: Kong's default
	// server_tokens, latency_tokens, x-kong-request-id.
	Headers []string
	// HeadersUpstream is Kong's headers_upstream; nil: x-kong-request-id.
	HeadersUpstream []string
	// TrustedIPs are the client addresses whose X-Forwarded-* and real IP
	// header are believed (Kong's trusted_ips; nil = NONE).
	TrustedIPs []netip.Prefix
	// RealIPHeader is Kong's real_ip_header (default X-Real-IP);
	// RealIPRecursive its real_ip_recursive.
	RealIPHeader    string
	RealIPRecursive bool
	// ClientMaxBodySize is nginx_http_client_max_body_size in bytes; 0 is
	// unlimited (Kong's default), capped at 2 GiB.
	ClientMaxBodySize int
	// ClientBodyBufferSize is nginx_http_client_body_buffer_size in bytes
	// (0: Kong's 8k): a request body read whole before it is proxied
	// (request_buffering) is kept in memory up to it, beyond it in a
	// temporary file in ClientBodyTempPath (nginx's client_body_temp_path;
	// "": the system's temporary directory).
	ClientBodyBufferSize int
	ClientBodyTempPath   string
	// ClientHeaderBufferSize bounds the request line and headers
	// (nginx's large_client_header_buffers, 8k by default): past it the
	// answer is Kong's 400 "Request header or cookie too large".
	ClientHeaderBufferSize int
	// AllowDebugHeader is Kong's allow_debug_header: a request with a
	// Kong-Debug header gets the matched Route's and Service's ids and
	// names in Kong-Route-Id, Kong-Route-Name, Kong-Service-Id and
	// Kong-Service-Name (debug_headers.go).
	AllowDebugHeader bool
	// ErrorDefaultType is Kong's error_default_type (text/plain).
	ErrorDefaultType string
	// ClientIdleTimeout closes idle client keep-alive connections (nginx's
	// keepalive_timeout, 60 s).
	ClientIdleTimeout time.Duration
	// MaxConnsPerUpstream bounds each upstream's connection pool (0: 4096).
	MaxConnsPerUpstream int
	// Logger receives upstream failures (nil: none).
	Logger Logger
	// CACertificate returns the PEM of a ca_certificates entity by id, for
	// the ca_certificates of an https Service with tls_verify on (nil: they
	// cannot be resolved, and are logged).
	CACertificate func(id string) ([]byte, error)
	// ClientCertificate returns a certificates entity by id, presented to
	// an https upstream as the Service's client_certificate (nil: none is
	// presented, and that is logged).
	ClientCertificate func(id string) (*tls.Certificate, error)
	// GetCertificate picks the certificate of a TLS handshake on an ssl
	// listener (Certificates.GetCertificate); needed when proxy_listen has
	// an ssl entry.
	GetCertificate func(*tls.ClientHelloInfo) (*tls.Certificate, error)
	// Certificate, when set, is the certificate phase of each handshake on
	// an ssl listener (Kong's ssl_certificate: the global plugins'
	// certificate handlers), run once GetCertificate chose the
	// certificate; an error fails the handshake (see handshake.go).
	Certificate func(h *Handshake) error
	// Balancer balances the Services whose host names an Upstream entity
	// (nil: none is).
	Balancer Balancers
	// DNS resolves the host of a Service that names no Upstream entity
	// when it is a name (nil: the host is dialed by name, through Go's
	// resolver; an unresolvable name is then a 502).
	DNS Resolver
	// ConsumerID is the request's authenticated consumer id, else its
	// credential's, for hash_on consumer (nil: none).
	ConsumerID func(c *Context) (string, bool)
	// UpdateRouter, when set, runs before each request is routed: with
	// worker_consistency = strict it rebuilds a router that a change made
	// stale (Rebuilder.Fresh; Kong's get_updated_router), so the request
	// after a write is routed by the new configuration.
	UpdateRouter func()
}

// Logger is what the proxy logs through (slog.Logger has it).
type Logger interface {
	Error(msg string, args ...any)
}

// enabledHeaders is the resolved `headers` setting.
type enabledHeaders struct {
	server, via, requestID          bool
	proxyLatency, upstreamLatency   bool
	responseLatency, upstreamStatus bool
	adminLatency                    bool
}

// AdminHeaders says which of the Admin API's headers Kong's `headers`
// (list; nil: Kong's default) enables: Server and X-Kong-Admin-Latency.
func AdminHeaders(list []string) (server, adminLatency bool) {
	e := resolveHeaders(list)
	return e.server, e.adminLatency
}

func resolveHeaders(list []string) enabledHeaders {
	if list == nil {
		list = []string{"server_tokens", "latency_tokens", "x-kong-request-id"}
	}
	var e enabledHeaders
	for i, h := range list {
		switch strings.ToLower(strings.TrimSpace(h)) {
		case "off":
			// conf_loader: off first turns them all off; later, it is
			// ignored
			if i == 0 {
				return enabledHeaders{}
			}
		case "server_tokens":
			e.server, e.via = true, true
		case "latency_tokens":
			e.proxyLatency, e.upstreamLatency, e.responseLatency, e.adminLatency = true, true, true, true
		case "server":
			e.server = true
		case "via":
			e.via = true
		case "x-kong-request-id":
			e.requestID = true
		case "x-kong-proxy-latency":
			e.proxyLatency = true
		case "x-kong-upstream-latency":
			e.upstreamLatency = true
		case "x-kong-response-latency":
			e.responseLatency = true
		case "x-kong-admin-latency":
			e.adminLatency = true
		case "x-kong-upstream-status":
			e.upstreamStatus = true
		}
	}
	return e
}

// ParseTrustedIPs reads Kong's trusted_ips: comma-separated IPs or CIDRs,
// "0.0.0.0/0,::/0" for all; "" or "NONE" for none.
func ParseTrustedIPs(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" || strings.EqualFold(s, "NONE") || strings.HasPrefix(s, "unix:") {
			continue
		}
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, err
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, err
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func (c *Config) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range c.TrustedIPs {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (c *Config) maxBody() int {
	if c.ClientMaxBodySize <= 0 || c.ClientMaxBodySize > math.MaxInt32 {
		return math.MaxInt32
	}
	return c.ClientMaxBodySize
}

func (c *Config) bodyBuffer() int {
	if c.ClientBodyBufferSize <= 0 {
		return 8 << 10
	}
	return c.ClientBodyBufferSize
}
