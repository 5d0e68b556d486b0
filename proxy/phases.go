package proxy

import (
	"time"

	"github.com/valyala/fasthttp"

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
	// ProxyLatency and UpstreamLatency are Kong's KONG_PROXY_LATENCY and
	// KONG_WAITING_TIME; ResponseLatency its KONG_RESPONSE_LATENCY.
	ProxyLatency, UpstreamLatency, ResponseLatency time.Duration
	// UpstreamErr is the upstream failure that made a 502/504, if any.
	UpstreamErr error

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

	// The bodies (body.go) and Log after the write (logconn.go).
	in      bodyIn
	out     bodyOut
	upResp  *fasthttp.Response // the upstream's streamed response
	reqBody []byte
	outBody []byte
	bodyErr error
	lc      *logConn
	snap    *fasthttp.RequestCtx
}

// Error answers the request with the page Kong's error handler gives for
// an error nginx made (kong/error_handlers.lua): status 500 after a Lua
// error in a phase, "An unexpected error occurred", in the type the
// client's Accept (else Content-Type) asks for, with the request id.
func (c *Context) Error(status int) { c.p.nginxError(c, status) }

// KongError answers the request as kong.response.error(status, message)
// does: Kong's template chosen by Accept (JSON without one).
func (c *Context) KongError(status int, message string) { c.p.kongError(c, status, message) }

func (c *Context) reset() {
	if c.upResp != nil {
		c.upResp.Reset()
	}
	if c.snap != nil {
		c.snap.Request.Reset()
		c.snap.Response.Reset()
	}
	keep := Context{
		p: c.p, buf: c.buf[:0], OriginalURI: c.OriginalURI[:0], OriginalHost: c.OriginalHost[:0],
		upResp: c.upResp, reqBody: c.reqBody[:0], outBody: c.outBody[:0], snap: c.snap,
	}
	keep.Upstream.Path = c.Upstream.Path[:0]
	keep.out.buf = c.out.buf
	*c = keep
}

// release resets the Context and puts it back in the pool.
func (c *Context) release() {
	p := c.p
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
