package proxy

import (
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/luahost/luahost/balancer"
	"github.com/luahost/luahost/router"
)

// Phases are the plugin hooks of a request, in Kong's order: Rewrite
// (before routing), Access (after routing, before the upstream), Response
// (after the upstream answered, only then: Kong's buffered response
// phase), then HeaderFilter and BodyFilter on the response about to be sent
// (Kong's own or the upstream's), and Log after it is sent. A Rewrite or Access that
// produced the response itself (kong.response.exit) returns true: the
// upstream is skipped and the filters and Log still run, as in Kong.
//
// Every callback runs on the goroutine serving the request's connection,
// one at a time; BodyFilter of a streamed response runs while fasthttp
// writes it, after the handler returned; Log runs once the response is
// written (logconn.go), and may run on the goroutine of Server.Shutdown
// closing the connection. The Context is only valid until Log returns.
type Phases interface {
	Rewrite(c *Context) (exited bool)
	Access(c *Context) (exited bool)
	Response(c *Context)
	HeaderFilter(c *Context)
	BodyFilter(c *Context)
	Log(c *Context)
}

// Context is one request as the phases see it. It is pooled: nothing may
// keep it, or anything it points to, past Log.
type Context struct {
	// Request and response: on an upstream request, Request has been
	// rewritten for the upstream (URI, Host, X-Forwarded-*) once Access
	// returns; OriginalURI and OriginalHost keep what the client sent.
	RequestCtx *fasthttp.RequestCtx

	// Matched tells whether the router matched; Match is then its result
	// (Service nil: no Service).
	Matched bool
	Match   router.Match

	// Upstream is the request to the upstream as plugins may still change
	// it: set from Match before Access (Kong's access.before sets
	// ngx.var.upstream_scheme, upstream_uri, upstream_host), applied after
	// it.
	Upstream Upstream

	// BufferResponse, set by Access (a plugin with a response handler,
	// kong.service.request.enable_buffering), asks for the upstream's
	// whole response before Response and HeaderFilter run (Kong's
	// buffered proxying). Without it the response may be streamed.
	BufferResponse bool

	// BodyChunk and BodyEOF are ngx.arg[1] and ngx.arg[2] while BodyFilter
	// runs: the chunk about to be sent and whether it is the last; what
	// BodyFilter leaves in BodyChunk is sent. A buffered response is one
	// chunk with BodyEOF true.
	BodyChunk []byte
	BodyEOF   bool

	// RequestID is X-Kong-Request-Id (32 hex digits).
	RequestID string
	// Start is when the request was read (Kong's KONG_PROCESSING_START).
	Start time.Time
	// Proxied is Kong's ctx.KONG_PROXIED: the request went (or tried to go)
	// to the upstream.
	Proxied bool
	// MarkedProxied: a plugin set ctx.KONG_PROXIED before answering without
	// the upstream (proxy-cache serving a hit): Kong's header_filter then
	// writes the proxied response's headers (X-Kong-Upstream-Latency,
	// X-Kong-Proxy-Latency, Via, Server) instead of X-Kong-Response-Latency.
	MarkedProxied bool
	// ProxyLatency and UpstreamLatency are Kong's KONG_PROXY_LATENCY and
	// KONG_WAITING_TIME; ResponseLatency its KONG_RESPONSE_LATENCY.
	ProxyLatency, UpstreamLatency, ResponseLatency time.Duration
	// UpstreamErr is the upstream failure that made a 502/504, if any.
	UpstreamErr error
	// Tries are the addresses a balanced request went to, in order (Kong's
	// balancer_data.tries); empty when the Service's host names no
	// Upstream entity.
	Tries []Try

	// OriginalURI is $request_uri as the client sent it; OriginalHost the
	// Host header.
	OriginalURI  []byte
	OriginalHost []byte

	// Plugin is free for the Phases implementation (its per-request
	// state: a borrowed worker, ngx.ctx); reset to nil after Log.
	Plugin any

	p    *Proxy
	ph   Phases // p.Phases when the request started
	rreq router.Request
	hdrs headerSource
	rid  [32]byte
	buf  []byte
	ipb  []byte     // the X-Forwarded-For/X-Real-IP value and the port after it
	scan headerScan // the request's, then the response's headers Kong sets or removes
	fwd  forwarded  // a trusted client's X-Forwarded-* values

	// The bodies (body.go) and Log after the write (logconn.go).
	in      bodyIn
	out     bodyOut
	upResp  *fasthttp.Response // the upstream's streamed response
	reqBody []byte
	outBody []byte
	bodyErr error
	// spool: the request body buffered in a temporary file (readWhole)
	spool     *os.File
	spoolName string // to remove once closed ("": removed already)
	spoolSize int64
	lc        *logConn
	tc        *tlsLogConn // the TLS connection (nil: plain)
	h2        *h2Conn     // the HTTP/2 stream's connection (nil: HTTP/1.x)
	snap      *fasthttp.RequestCtx

	// The ring-balancer (balance.go).
	bh           balancer.Handle
	balanced     bool
	preserveHost bool
	hashValue    string
	hashCookie   balancer.HashCookie
	upStatus     int // the upstream's status

	// upVia is the upstream's Via (its lines joined) when upViaSet.
	upVia    []byte
	upViaSet bool
	// A WebSocket upgrade (tunnel.go): upgrade is Kong's test on the
	// client's request; tunnel is set once the upstream answered 101.
	upgrade bool
	tunnel  *tunnel
	// debugHeaders: the response gets Kong's debug headers
	// (debug_headers.go).
	debugHeaders bool
}

// Error answers the request with the page Kong's error handler gives for
// an error nginx made (kong/error_handlers.lua): status 500 after a Lua
// error in a phase, "An unexpected error occurred", in the type the
// client's Accept (else Content-Type) asks for, with the request id.
func (c *Context) Error(status int) { c.p.nginxError(c, status) }

// KongError answers the request as kong.response.error(status, message)
// does: Kong's template chosen by Accept (JSON without one).
func (c *Context) KongError(status int, message string) { c.p.kongError(c, status, message) }

// TrustedIP reports whether a is one of the proxy's trusted_ips
// (kong.ip.is_trusted).
func (c *Context) TrustedIP(a netip.Addr) bool { return c.p.cfg.trusted(a) }

// ClientIP is nginx's $remote_addr after the realip module (Kong's
// kong.client.get_forwarded_ip): see ClientAddr.
func (c *Context) ClientIP() netip.Addr {
	a, _ := c.ClientAddr()
	return a
}

// ClientAddr is nginx's $remote_addr and $remote_port after the realip
// module: when the peer is trusted and real_ip_header holds an address
// ("ip", "ip:port", "[v6]:port"; for X-Forwarded-For the last one, or with
// real_ip_recursive the last untrusted one), that address and its port
// (0 when it gave none); else the peer's.
func (c *Context) ClientAddr() (netip.Addr, int) {
	var peer netip.Addr
	port := 0
	if a, ok := c.RequestCtx.RemoteAddr().(*net.TCPAddr); ok {
		peer, _ = netip.AddrFromSlice(a.IP)
		peer, port = peer.Unmap(), a.Port
	}
	cfg := &c.p.cfg
	if !cfg.trusted(peer) {
		return peer, port
	}
	lname := c.p.realIPHdr
	var v []byte
	for k, val := range c.RequestCtx.Request.Header.All() {
		if headerNameEqual(k, lname) {
			v = val
			break
		}
	}
	if len(v) == 0 {
		return peer, port
	}
	if lname != "x-forwarded-for" {
		if a, p, ok := parseAddrPort(string(v)); ok {
			return a, p
		}
		return peer, port
	}
	parts := strings.Split(string(v), ",")
	for i := len(parts) - 1; i >= 0; i-- {
		a, p, ok := parseAddrPort(parts[i])
		if !ok {
			return peer, port
		}
		if !cfg.RealIPRecursive || i == 0 || !cfg.trusted(a) {
			return a, p
		}
	}
	return peer, port
}

// parseAddrPort reads an address as nginx's realip module does: "ip",
// "ip:port", "[v6]" or "[v6]:port".
func parseAddrPort(s string) (netip.Addr, int, bool) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), int(ap.Port()), true
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), 0, true
	}
	return netip.Addr{}, 0, false
}

// ResponseType is Kong's get_response_type(accept): the MIME type (with
// charset) of the error template an Accept header selects.
func ResponseType(accept string) string { return responseType(accept) }

// ErrorBody is Kong's error template for contentType (a MIME type as
// ResponseType gives, or its bare "type/subtype") filled with message and
// the request id; false when Kong has no template for it.
func ErrorBody(contentType, message, requestID string) (string, bool) {
	switch contentType {
	case "application/json", mimeJSON:
		contentType = mimeJSON
	case "text/html", mimeHTML:
		contentType = mimeHTML
	case "application/xml", mimeXML:
		contentType = mimeXML
	case "text/plain", mimePlain:
		contentType = mimePlain
	case "application/grpc", mimeGRPC: // Kong's template for both is ""
		return "", true
	default:
		return "", false
	}
	return errorBody(contentType, message, requestID), true
}

func (c *Context) reset() {
	c.closeSpool()
	if c.upResp != nil {
		c.upResp.Reset()
	}
	if c.snap != nil {
		c.snap.Request.Reset()
		c.snap.Response.Reset()
	}
	keep := Context{
		p: c.p, buf: c.buf[:0], ipb: c.ipb[:0], OriginalURI: c.OriginalURI[:0], OriginalHost: c.OriginalHost[:0],
		upResp: c.upResp, reqBody: c.reqBody[:0], outBody: c.outBody[:0], snap: c.snap, upVia: c.upVia[:0],
	}
	keep.Upstream.Path = c.Upstream.Path[:0]
	keep.Tries = c.Tries[:0]
	keep.out.buf = c.out.buf
	keep.scan.buf, keep.scan.spells, keep.fwd.buf = c.scan.buf[:0], c.scan.spells[:0], c.fwd.buf[:0]
	*c = keep
}

// release resets the Context and puts it back in the pool.
func (c *Context) release() {
	p := c.p
	c.balancerDone()
	c.reset()
	p.ctxPool.Put(c)
}

// Upstream is what the proxy sends upstream once Access returns; the
// request PDK changes it (kong.service.request.set_path, set_scheme,
// set_header("Host"), kong.service.set_target).
type Upstream struct {
	// Scheme is $upstream_scheme ("http", "https").
	Scheme string
	// Path is $upstream_uri without its query: escaped, as sent. The
	// query sent is the request's (rc.Request.URI().QueryString()) as
	// plugins left it (ngx.req.set_uri_args, kong.service.request.set_query).
	Path []byte
	// Host is the Host header sent ($upstream_host).
	Host string
	// Hostname and Port are where to connect (kong.service.set_target
	// changes them).
	Hostname string
	Port     int
}

// headerSource reads request headers for the router without copying them
// (names compared case-insensitively, '_' and '-' alike).
type headerSource struct {
	h *fasthttp.RequestHeader
}

func (s *headerSource) HeaderValues(name string) []string {
	var out []string
	for k, v := range s.h.All() {
		if headerNameEqual(k, name) {
			out = append(out, string(v))
		}
	}
	return out
}

func headerNameEqual(k []byte, name string) bool {
	if len(k) != len(name) {
		return false
	}
	for i := 0; i < len(k); i++ {
		a, b := k[i], name[i]
		if a >= 'A' && a <= 'Z' {
			a += 'a' - 'A'
		}
		if a == '_' {
			a = '-'
		}
		if b == '_' {
			b = '-'
		}
		if a != b {
			return false
		}
	}
	return true
}

// NopPhases runs no plugin: the Phases of a node without plugins, and the
// base to embed for a Phases implementing only some callbacks.
type NopPhases struct{}

func (NopPhases) Rewrite(*Context) bool { return false }
func (NopPhases) Access(*Context) bool  { return false }
func (NopPhases) Response(*Context)     {}
func (NopPhases) HeaderFilter(*Context) {}
func (NopPhases) BodyFilter(*Context)   {}
func (NopPhases) Log(*Context)          {}
