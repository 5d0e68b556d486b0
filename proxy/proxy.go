package proxy

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/valyala/fasthttp"

	"github.com/luahost/luahost/router"
)

// Proxy is the proxy's request handler: route, then answer or forward.
// It is safe for concurrent use; the request path takes no lock.
type Proxy struct {
	Router *router.Versioned
	// Phases run the plugins; nil runs none.
	Phases Phases

	cfg       Config
	hdr       enabledHeaders
	reqIDUp   bool
	server    string // "kong/<version>"
	via11     string // "1.1 kong/<version>"
	via10     string // "1 kong/<version>": ngx.req.http_version() 1.0 concatenated
	via2      string // "2 kong/<version>": for an HTTP/2 request
	realIPHdr string // in lower case
	ctxPool   sync.Pool
	clients   sync.Map // upstreamKey -> *fasthttp.HostClient
	conns     connCounters
}

// New returns a Proxy routing with rt.
func New(rt *router.Versioned, cfg Config) *Proxy {
	p := &Proxy{Router: rt, cfg: cfg, hdr: resolveHeaders(cfg.Headers)}
	up := cfg.HeadersUpstream
	if up == nil {
		up = []string{"x-kong-request-id"}
	}
	// conf_loader: tokens in any case; off first turns them all off
	if len(up) == 0 || !strings.EqualFold(strings.TrimSpace(up[0]), "off") {
		for _, h := range up {
			if strings.EqualFold(strings.TrimSpace(h), "x-kong-request-id") {
				p.reqIDUp = true
			}
		}
	}
	if p.cfg.ErrorDefaultType == "" {
		p.cfg.ErrorDefaultType = "text/plain"
	}
	p.realIPHdr = strings.ToLower(cfg.RealIPHeader)
	if p.realIPHdr == "" {
		p.realIPHdr = "x-real-ip"
	}
	p.server = "kong/" + cfg.KongVersion
	p.via11 = "1.1 " + p.server
	p.via10 = "1 " + p.server
	p.via2 = "2 " + p.server
	p.ctxPool.New = func() any { return new(Context) }
	return p
}

// b2s views b as a string without copying; valid while b is unchanged
// (the request's buffers, during the request).
func b2s(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// ServeHTTP is the fasthttp request handler.
func (p *Proxy) ServeHTTP(rc *fasthttp.RequestCtx) {
	c := p.ctxPool.Get().(*Context)
	c.p = p
	c.ph = p.Phases
	c.RequestCtx = rc
	c.Start = rc.Time()
	newRequestID(&c.rid)
	c.RequestID = string(c.rid[:])
	c.OriginalURI = append(c.OriginalURI[:0], rc.Request.Header.RequestURI()...)
	c.OriginalHost = append(c.OriginalHost[:0], rc.Request.Header.Host()...)
	c.lc = asLogConn(rc.Conn())
	c.tc, _ = rc.Conn().(*tlsLogConn)
	if c.lc == nil {
		c.fromH2(rc.Conn())
	}
	p.countRequest(c.lc)

	if status := refused(&rc.Request.Header); status != 0 {
		// nginx's answer before any phase, through Kong's error handler
		p.nginxError(c, status)
		if status != 405 {
			rc.SetConnectionClose()
		}
		p.finish(c)
		p.respond(c)
		return
	}
	p.serve(c)
	p.respond(c)
}

// lineMax is the size of one of nginx's large_client_header_buffers (4
// 8k): the longest request line or header line, terminator included.
const lineMax = 8 << 10

// refused is the status nginx answers a request it read with before any
// phase, 0 if none: 414 to a request line longer than one of
// large_client_header_buffers, 494 (Kong's 400) to a header line longer
// than one, 405 to TRACE (the whole header is bounded by the server's
// read buffer: ErrorHandler).
func refused(h *fasthttp.RequestHeader) int {
	m := h.Method()
	if len(m)+len(h.RequestURI())+len(h.Protocol())+4 > lineMax {
		return 414
	}
	if raw := h.RawHeaders(); len(raw) > lineMax {
		for len(raw) > 0 {
			n := bytes.IndexByte(raw, '\n') + 1
			if n == 0 {
				n = len(raw)
			}
			if n > lineMax {
				return 494
			}
			raw = raw[n:]
		}
	}
	if string(m) == "TRACE" {
		return 405
	}
	return 0
}

func (p *Proxy) serve(c *Context) {
	rc := c.RequestCtx
	ph := c.ph
	// client_max_body_size against the Content-Length, before any phase
	// (nginx checks it when it picks the location).
	if rc.Request.IsBodyStream() && rc.Request.Header.ContentLength() > p.cfg.maxBody() {
		c.bodyErr = errBodyTooLarge
		p.bodyFailed(c)
		p.finish(c)
		return
	}
	if ph != nil && (ph.Rewrite(c) || c.bodyErr != nil) {
		if c.bodyErr != nil {
			p.bodyFailed(c)
		}
		p.finish(c)
		return
	}
	local, _ := rc.LocalAddr().(*net.TCPAddr)
	remote, _ := rc.RemoteAddr().(*net.TCPAddr)
	rq := &c.rreq
	rq.Method = b2s(rc.Request.Header.Method())
	rq.Host = b2s(c.OriginalHost)
	rq.URI = b2s(c.OriginalURI)
	rq.Scheme, rq.SNI = "http", ""
	if c.tc != nil {
		rq.Scheme = "https"
		rq.SNI = c.tc.serverName()
	}
	c.hdrs.h = &rc.Request.Header
	rq.Headers = &c.hdrs
	if remote != nil {
		rq.SrcIP, _ = netip.AddrFromSlice(remote.IP)
		rq.SrcPort = remote.Port
	}
	if local != nil {
		rq.DstIP, _ = netip.AddrFromSlice(local.IP)
		rq.DstPort = local.Port
	}
	if f := p.cfg.UpdateRouter; f != nil {
		f()
	}
	r, _ := p.Router.Load()
	if r == nil || !r.MatchInto(rq, &c.Match) {
		p.kongError(c, 404, "no Route matched with those values")
		p.finish(c)
		return
	}
	c.Matched = true
	m := &c.Match
	c.debugHeaders = p.wantsDebugHeaders(&rc.Request.Header)

	// The X-Forwarded-* and Via values (handler.lua access.before, before
	// the access plugins: what they do to those headers does not change
	// what goes upstream), found whatever the case of their names, the
	// forwarded ones a trusted client's (copied: they are used after the
	// access phase).
	realIP := rq.SrcIP.Unmap()
	clientIP := realIP
	trusted := p.cfg.trusted(realIP)
	f := &c.fwd
	f.read(&rc.Request.Header, p.realIPHdr, trusted)
	var fProto, fHost, fPort, fPath, fPrefix []byte
	if trusted {
		if ip, ok := p.realIP(f.get(fwdRealIP)); ok {
			clientIP = ip
		}
		fProto, fHost, fPort = f.get(fwdProto), f.get(fwdHost), f.get(fwdPort)
		fPath, fPrefix = f.get(fwdPath), f.get(fwdPrefix)
	}
	host := hostOnly(c.OriginalHost)
	if len(host) == 0 {
		host = serverName // nginx's $host without a Host header
	}
	port := rq.DstPort
	proto := rq.Scheme
	if len(fProto) > 0 {
		proto = b2s(fProto)
	}
	if code := m.HTTPSRedirectStatus(proto); code != 0 {
		if code == 426 {
			p.kongError(c, 426, "Please use HTTPS protocol")
			rc.Response.Header.Set("Connection", "Upgrade")
			rc.Response.Header.Set("Upgrade", "TLS/1.2, HTTP/1.1")
		} else {
			h := host
			if len(fHost) > 0 {
				h = fHost
			}
			p.kongExit(c, code)
			rc.Response.Header.Set("Location", "https://"+string(h)+string(c.OriginalURI))
		}
		p.finish(c)
		return
	}
	if p.grpcMismatch(c, proto) {
		p.finish(c)
		return
	}
	up := &c.Upstream
	up.Scheme = m.UpstreamScheme
	up.Path = append(up.Path[:0], router.EscapeURI(m.UpstreamURI)...)
	up.Host = m.UpstreamHost
	up.Hostname, up.Port = m.UpstreamHostname, m.UpstreamPort
	// A WebSocket upgrade, told before the access phase as Kong's
	// access.before does (tunnel.go); only on the proxy's own listeners,
	// whose connections can be hijacked.
	c.upgrade = c.lc != nil && isWebSocketUpgrade(&rc.Request.Header)
	if ph != nil && (ph.Access(c) || c.bodyErr != nil) {
		if c.bodyErr != nil {
			p.bodyFailed(c)
		}
		p.finish(c)
		return
	}
	if c.upgrade {
		c.BufferResponse = false // Kong.access: "response buffering was turned off"
	}
	// Kong runs the access plugins of a Route without a Service (one may
	// answer: request-termination, an auth plugin's 401) and only then
	// answers 503 (init.lua Kong.access).
	if m.Service == nil {
		c.BufferResponse = false
		p.kongError(c, 503, "no Service found with those values")
		p.finish(c)
		return
	}
	// The ring-balancer for a Service host naming an Upstream entity, or
	// the host's name resolved.
	if !p.balance(c) {
		p.finish(c)
		return
	}

	// The upstream request (access.after and nginx's proxy_set_header).
	req := &rc.Request
	h := &req.Header
	b := c.buf[:0]
	if isGRPC(up.Scheme) {
		// nginx's grpc_pass has no URI: the client's path goes upstream as
		// sent (strip_path, the Service's path and set_path change
		// $upstream_uri, which it does not read)
		path := c.OriginalURI
		if i := bytes.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		b = append(b, path...)
	} else {
		b = append(b, up.Path...)
	}
	bareQuery := false
	if q := req.URI().QueryString(); len(q) > 0 {
		b = append(append(b, '?'), q...)
	} else if i := bytes.IndexByte(c.OriginalURI, '?'); i >= 0 && i == len(c.OriginalURI)-1 {
		b = append(b, '?') // a bare "?" is kept, as nginx's $is_args$args
		bareQuery = true
	}
	req.SetRequestURIBytes(b)
	c.buf = b

	// The headers Kong sets or removes are found whatever the case of
	// their names (one pass: sc); Kong's go upstream under its spelling
	// and the others' are dropped at the end (values read first).
	names := requestNames(h)
	sc := &c.scan
	sc.request(h, names)
	// Via and X-Forwarded-For extend the client's first as it was before
	// the access phase (Kong's get_header: the first of those sent), built
	// in c.buf (free again: SetRequestURIBytes copied it).
	vb := c.buf[:0]
	if v := f.get(fwdVia); len(v) > 0 {
		vb = append(append(vb, v...), ", "...)
	}
	vb = append(vb, p.inboundVia(c, h)...)
	viaEnd := len(vb)
	if v := f.get(fwdFor); len(v) > 0 {
		vb = append(append(vb, v...), ", "...)
		vb = realIP.AppendTo(vb)
	}
	c.buf = vb
	clearHopByHop(h, names, sc)
	h.SetCanonical(hdrVia, vb[:viaEnd])
	// proxy_http_version 1.1, whatever the client spoke (fasthttp has
	// already noted the client's version for its own answer).
	h.SetProtocol("HTTP/1.1")
	if cap(c.ipb) < 64 { // an IPv6 address and a port
		c.ipb = make([]byte, 0, 64)
	}
	c.ipb = clientIP.AppendTo(c.ipb[:0])
	b = c.ipb
	if len(vb) > viaEnd {
		h.SetCanonical(hdrXForwardedFor, vb[viaEnd:])
	} else {
		h.SetCanonical(hdrXForwardedFor, b)
	}
	h.SetCanonical(names.realIP, b)
	if len(fProto) == 0 {
		h.SetCanonical(hdrXForwardedProto, s2b(rq.Scheme))
	} else {
		h.SetCanonical(hdrXForwardedProto, fProto)
	}
	if len(fHost) == 0 {
		h.SetCanonical(hdrXForwardedHost, host)
	} else {
		h.SetCanonical(hdrXForwardedHost, fHost)
	}
	if len(fPort) == 0 {
		h.SetCanonical(hdrXForwardedPort, strconv.AppendInt(b[len(b):], int64(port), 10))
	} else {
		h.SetCanonical(hdrXForwardedPort, fPort)
	}
	if len(fPath) == 0 {
		path := c.OriginalURI
		if q := bytes.IndexByte(path, '?'); q >= 0 {
			path = path[:q]
		}
		h.SetCanonical(hdrXForwardedPath, path)
	} else {
		h.SetCanonical(hdrXForwardedPath, fPath)
	}
	switch {
	case len(fPrefix) > 0:
		h.SetCanonical(hdrXForwardedPfx, fPrefix)
	case m.Prefix != "" && m.Prefix != "/":
		h.SetCanonical(hdrXForwardedPfx, s2b(m.Prefix))
	case sc.canon&hasXFPrefix != 0:
		h.Del("X-Forwarded-Prefix")
	}
	drop := requestScanned &^ hasRequestID
	if p.reqIDUp {
		h.SetCanonical(hdrRequestID, c.rid[:])
		drop |= hasRequestID
	}
	sc.dropOdd(h, drop)
	if c.upgrade {
		// proxy_set_header Upgrade $upstream_upgrade, Connection
		// $upstream_connection (the client's are gone with the hop-by-hop
		// headers, whatever their spelling)
		h.SetCanonical(hdrUpgrade, valWebSocket)
		h.SetCanonical(hdrConnection, valKeepAliveUpgrade)
	}
	h.SetHost(up.Host)

	// The request body (body.go): read whole before the upstream is
	// called with the Route's request_buffering (Kong's default) or
	// buffered proxying; else whole if it is in memory, streamed from the
	// client otherwise. A body sent whole goes with its length, without
	// trailer fields.
	streamed := false
	buffer := m.Route.RequestBuffering || c.BufferResponse || c.upgrade
	if isGRPC(up.Scheme) {
		// gRPC calls stream both ways (nginx's grpc_pass); an HTTP/1.x
		// client's body is read first
		buffer = c.h2 == nil
	}
	if req.IsBodyStream() {
		cl := h.ContentLength()
		switch {
		case buffer:
			// an upgrade's (rare) body too: the connection carries the
			// upgraded protocol after it
			if !c.readWhole() {
				p.bodyFailed(c)
				p.finish(c)
				return
			}
			streamed = c.spool != nil
		case cl >= 0 && cl <= prefetchMax:
			c.RequestBody()
		default:
			c.in = bodyIn{r: req.BodyStream(), max: p.cfg.maxBody()}
			req.SetBodyStream(&c.in, cl)
			streamed = true
		}
	}
	if c.spool != nil || !req.IsBodyStream() {
		dropTrailers(h)
	}

	c.Proxied = true
	sent := time.Now()
	c.ProxyLatency = sent.Sub(c.Start)
	grpc := isGRPC(up.Scheme)
	if up.Scheme != "http" && up.Scheme != "https" && !grpc {
		c.UpstreamErr = errors.New("upstream protocol " + up.Scheme + " is not supported yet")
		p.upstreamFailed(c, 502)
		p.finish(c)
		return
	}
	var client *fasthttp.HostClient
	if !grpc {
		client = p.client(m.Service, up, c.balanced)
	}
	// The response: streamed unless Access asked for it whole. With
	// plugins, a streamed response is read into the Context's own
	// Response, its body then passed through BodyFilter as it is sent.
	resp := &rc.Response
	target := resp
	// Not from our listeners (a caller's own server, a test calling
	// ServeHTTP): the response is read whole, Log runs before the write
	// (respond).
	whole := c.BufferResponse || (c.lc == nil && c.h2 == nil)
	if ph != nil && !whole {
		if c.upResp == nil {
			c.upResp = new(fasthttp.Response)
		}
		target = c.upResp
	}
	target.StreamBody = !whole
	target.Header.DisableNormalizing()
	// fasthttp's client checks the scheme against its TLS setting; a
	// request read over TLS starts as https
	var err error
	switch {
	case grpc:
		err = p.doGRPC(c, req, target)
	case c.upgrade:
		req.URI().SetScheme(up.Scheme)
		keepBareQuery(req, bareQuery)
		err = p.openTunnel(c, client, req, target)
	default:
		req.URI().SetScheme(up.Scheme)
		keepBareQuery(req, bareQuery)
		err = p.do(c, client, req, target, streamed)
	}
	c.UpstreamLatency = time.Since(sent)
	if err == nil {
		c.upStatus = target.StatusCode()
	}
	if streamed && req.IsBodyStream() {
		req.SetBodyRaw(nil) // not sent: let go of c.in
	}
	c.closeSpool()
	if err != nil {
		if c.bodyErr == nil && c.in.err != nil {
			c.bodyErr = c.in.err
		}
		if c.bodyErr != nil {
			p.bodyFailed(c)
			p.finish(c)
			return
		}
		c.UpstreamErr = err
		status := 502
		if err == errNoPeerRetry {
			status = 503
		} else if isTimeout(err) {
			status = 504
		}
		p.upstreamFailed(c, status)
		p.finish(c)
		return
	}
	if target.IsBodyStream() {
		// Headers go out at once unless the body is small enough to
		// follow in the same write (nginx sends them as they come).
		cl := target.Header.ContentLength()
		resp.ImmediateHeaderFlush = cl < 0 || cl > smallBody
	}
	if target != resp {
		target.Header.CopyTo(&resp.Header)
		c.out.src = target.BodyStream()
	}
	// the upstream's Content-Type or none, as nginx passes it (the
	// client's read, and CopyTo, let fasthttp add its own)
	resp.Header.SetNoDefaultContentType(true)
	// The response's hop-by-hop headers (nginx passes no Connection,
	// Keep-Alive, Upgrade; header_filter.before the headers Connection
	// names, all its lines' tokens, Trailer unless asked for), and the
	// upstream's headers Kong replaces (finish) under other spellings,
	// found whatever the case of their names.
	rh := &resp.Header
	sc.response(rh)
	if p.hdr.via {
		// Kong's Via extends the upstream's as it came, its lines joined
		// ($upstream_http_via, whatever header_filter removed); it
		// replaces them once the header filters ran (kongHeaders).
		if v := sc.joined(rh, nVia); v != nil {
			c.upVia, c.upViaSet = append(c.upVia[:0], v...), true
		}
	}
	if conn := sc.joined(rh, nConnection); len(conn) > 0 {
		sc.delResponseTokens(rh, conn)
	}
	rh.ResetConnectionClose()
	if sc.canon&hasConnection != 0 {
		rh.Del("Connection")
	}
	if sc.canon&hasKeepAlive != 0 {
		rh.Del("Keep-Alive")
	}
	// Upgrade is kept when it is the one asked for (header_filter.before:
	// removed unless it equals upstream_upgrade, ignoring case).
	keepUpgrade := c.upgrade && equalFold(sc.value(rh, nUpgrade), valWebSocket)
	if sc.canon&hasUpgrade != 0 && !keepUpgrade {
		rh.Del("Upgrade")
	}
	if sc.trailers && len(req.Header.PeekCanonical(requestNames(&req.Header).te)) == 0 {
		rh.Del("Trailer")
	}
	drop = hasConnection | hasKeepAlive
	if !keepUpgrade {
		drop |= hasUpgrade
	}
	if p.hdr.requestID {
		drop |= hasRequestID
	}
	if p.hdr.upstreamLatency {
		drop |= hasUpLatency
	}
	if p.hdr.proxyLatency {
		drop |= hasPxLatency
	}
	sc.dropOdd(rh, drop)
	if ph != nil && !c.upgrade {
		ph.Response(c)
	}
	p.finish(c)
}

// smallBody is the largest streamed response body sent in one write with
// its headers (fasthttp's write buffer).
const smallBody = 4 << 10

// do sends the request upstream. fasthttp does not retry a request with a
// streamed body; a connection that could not be made sent nothing, so it
// is retried here as Kong's balancer does. A balanced request moves to the
// balancer's next address for each retry (its clients do not retry).
func (p *Proxy) do(c *Context, client *fasthttp.HostClient, req *fasthttp.Request, resp *fasthttp.Response, streamed bool) error {
	retries := c.Match.Service.Retries
	for attempt := 0; ; attempt++ {
		if attempt > 0 && c.spool != nil {
			c.rewindSpool() // a buffered body is sent again, from its start
		}
		err := client.Do(req, resp)
		if err == nil || attempt >= retries || (streamed && c.in.n > 0) {
			return err
		}
		if !c.balanced {
			if !streamed || !isDialError(err) {
				return err
			}
			continue
		}
		if _, retry := retryIf(req, 0, err); !retry {
			return err
		}
		if client, err = p.retryPeer(c, err); err != nil {
			return err
		}
	}
}

// midBodyFailure logs an upstream that failed after its response headers
// were sent on: the client's connection is closed, as nginx does.
// keepBareQuery keeps a bare "?" at the end of the URI sent upstream
// (nginx sends $upstream_uri$is_args$args, "?" with empty $args). Once
// fasthttp's client has parsed the request's URI, it writes the URI from
// its parts, with a "?" only before a query that is not empty; its path
// is written as set (the pool's clients disable path normalizing), so
// the "?" goes at the path's end.
func keepBareQuery(req *fasthttp.Request, bare bool) {
	if !bare {
		return
	}
	u := req.URI()
	if p := u.PathOriginal(); len(u.QueryString()) == 0 && !bytes.HasSuffix(p, []byte{'?'}) {
		u.SetPathBytes(append(p, '?'))
	}
}

func (p *Proxy) midBodyFailure(c *Context, err error) {
	if l := p.cfg.Logger; l != nil {
		m := &c.Match
		l.Error("upstream failed while sending the response body", "service", m.Service.ID,
			"upstream", c.Upstream.Hostname+":"+strconv.Itoa(c.Upstream.Port), "err", err, "request_id", c.RequestID)
	}
}

// inboundVia is Kong's "<http_version> kong/<version>" for the upstream
// request.
func (p *Proxy) inboundVia(c *Context, h *fasthttp.RequestHeader) string {
	if c.HTTP2() != "" {
		return p.via2
	}
	if h.IsHTTP11() {
		return p.via11
	}
	return p.via10
}

// realIP is nginx's realip module: the address in v, real_ip_header's
// value (the last of X-Forwarded-For's when not recursive).
func (p *Proxy) realIP(v []byte) (netip.Addr, bool) {
	if len(v) == 0 {
		return netip.Addr{}, false
	}
	if i := bytes.LastIndexByte(v, ','); i >= 0 {
		if p.cfg.RealIPRecursive {
			// Walk back past trusted addresses.
			parts := bytes.Split(v, []byte{','})
			for j := len(parts) - 1; j >= 0; j-- {
				a, ok := realAddr(b2s(bytes.TrimSpace(parts[j])))
				if !ok {
					return netip.Addr{}, false
				}
				if j == 0 || !p.cfg.trusted(a) {
					return a.Unmap(), true
				}
			}
		}
		v = v[i+1:]
	}
	// v is not kept: ParseAddr copies a zone, its error is dropped
	a, ok := realAddr(b2s(bytes.TrimSpace(v)))
	if !ok {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// realAddr reads an address of real_ip_header as nginx's realip module:
// "ip", or with a port, "ip:port" or "[v6]:port" (a plain address first:
// the common case parses without an error made).
func realAddr(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a, true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr(), true
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// serverName is the server_name of Kong's proxy server block.
var serverName = []byte("kong")

// hostOnly is nginx's $host from the Host header: without the port,
// lower-cased.
func hostOnly(h []byte) []byte {
	if len(h) > 0 && h[0] == '[' {
		if i := bytes.IndexByte(h, ']'); i >= 0 {
			return bytes.ToLower(h[:i+1])
		}
	}
	if i := bytes.LastIndexByte(h, ':'); i >= 0 {
		h = h[:i]
	}
	for _, ch := range h {
		if ch >= 'A' && ch <= 'Z' {
			return bytes.ToLower(h)
		}
	}
	return h
}

// clearHopByHop removes what nginx does not pass upstream (Keep-Alive,
// Expect, TE, Upgrade, Connection and the headers Connection names) and
// what Kong clears (Proxy, Proxy-Connection; handler.lua access.after), whatever the case of their names, and keeps
// the upstream connection alive. s is h's scan: the names under Kong's
// spelling are deleted here, the others by s.dropOdd. Names are only
// deleted (or TE set under its own), so a name s did not find is still
// absent.
func clearHopByHop(h *fasthttp.RequestHeader, n *reqNames, s *headerScan) {
	if conn := s.value(h, nConnection); len(conn) > 0 {
		s.delRequestTokens(h, conn)
	}
	h.ResetConnectionClose()
	has := s.canon
	if has&hasConnection != 0 {
		h.Del("Connection")
	}
	if has&hasKeepAlive != 0 {
		h.Del("Keep-Alive")
	}
	if has&hasExpect != 0 {
		h.Del("Expect")
	}
	if has&hasUpgrade != 0 {
		h.Del("Upgrade")
	}
	// httpoxy: Proxy, and Proxy-Connection (handler.lua access.after)
	if has&hasProxy != 0 {
		h.Del("Proxy")
	}
	if has&hasProxyConn != 0 {
		h.Del("Proxy-Connection")
	}
	if s.found()&hasTE == 0 {
		return
	}
	te := s.value(h, nTE)
	trailers := false
	forEachToken(te, func(t []byte) {
		if tokenIs(t, "trailers") {
			trailers = true
		}
	})
	if trailers {
		h.SetCanonical(n.te, valTrailers)
	} else if has&hasTE != 0 {
		h.Del("TE")
	}
}

func forEachToken(v []byte, fn func([]byte)) {
	for len(v) > 0 {
		var t []byte
		if i := bytes.IndexByte(v, ','); i >= 0 {
			t, v = v[:i], v[i+1:]
		} else {
			t, v = v, nil
		}
		if t = bytes.TrimSpace(t); len(t) > 0 {
			fn(t)
		}
	}
}

func tokenIs(t []byte, s string) bool { return len(t) == len(s) && bytes.EqualFold(t, []byte(s)) }

// grpcMismatch is access.before's check of a request on a Route whose
// protocols include grpc or grpcs (kong/runloop/handler.lua): 415 to a
// request whose Content-Type is not gRPC's, 426 to a gRPC one not over
// HTTP/2, and on a grpcs-only Route a gRPC request not made over https
// (proto: the forwarded one) answered 200 with grpc-status 1. It reports
// whether it answered.
func (p *Proxy) grpcMismatch(c *Context, proto string) bool {
	grpc, grpcs := false, false
	for _, pr := range c.Match.Route.Protocols {
		switch pr {
		case "grpc":
			grpc = true
		case "grpcs":
			grpcs = true
		}
	}
	if !grpc && !grpcs {
		return false
	}
	resp := &c.RequestCtx.Response
	switch {
	case !IsGRPC(c.RequestCtx.Request.Header.ContentType()):
		p.kongError(c, 415, "Non-gRPC request matched gRPC route")
	case c.HTTP2() == "":
		p.kongError(c, 426, "Please use HTTP2 protocol")
		resp.Header.Set("connection", "Upgrade")
		resp.Header.Set("upgrade", "HTTP/2")
	case !grpc && proto != "https":
		// kong.response.exit(200, nil, {content-type, grpc-status,
		// grpc-message}): the given grpc-status kept, no body
		resetResponse(resp)
		resp.SetStatusCode(200)
		resp.Header.SetContentType(MIMEGRPC)
		resp.Header.Set("grpc-status", "1")
		resp.Header.Set("grpc-message", "gRPC request matched gRPCs route")
		resp.Header.SetContentLength(0)
	default:
		return false
	}
	return true
}

// newRequestID fills dst with 32 random hex digits (Kong's
// $kong_request_id).
func newRequestID(dst *[32]byte) {
	var raw [16]byte
	a, b := rand.Uint64(), rand.Uint64()
	for i := 0; i < 8; i++ {
		raw[i] = byte(a >> (8 * i))
		raw[8+i] = byte(b >> (8 * i))
	}
	hex.Encode(dst[:], raw[:])
}

// kongError is kong.response.error(status, message): Kong's template,
// chosen by Accept (JSON without one); to a gRPC request (GRPCRequest)
// Content-Type application/grpc, no body, grpc-status mapped from status
// and its default grpc-message (message is not sent).
func (p *Proxy) kongError(c *Context, status int, message string) {
	rc := c.RequestCtx
	if c.GRPCRequest() {
		resp := &rc.Response
		resetResponse(resp)
		resp.SetStatusCode(status)
		resp.Header.SetContentType(MIMEGRPC)
		grpcAnswer(resp, status)
		return
	}
	accept := rc.Request.Header.PeekCanonical(hdrAccept)
	mime := responseType(b2s(accept))
	p.writeError(c, status, mime, message)
}

// kongExit is kong.response.exit(status) with no body (to a gRPC request
// with grpc-status and grpc-message).
func (p *Proxy) kongExit(c *Context, status int) {
	resp := &c.RequestCtx.Response
	resetResponse(resp)
	resp.SetStatusCode(status)
	if c.GRPCRequest() {
		grpcAnswer(resp, status)
	}
}

func (p *Proxy) writeError(c *Context, status int, mime, message string) {
	resp := &c.RequestCtx.Response
	resetResponse(resp)
	resp.SetStatusCode(status)
	if mime != "" {
		resp.Header.SetContentType(mime)
	}
	resp.SetBodyString(errorBody(mime, message, c.RequestID))
}

// nginxError is Kong's error handler (kong/error_handlers.lua) for an
// error nginx made: the type chosen by Accept, else Content-Type, else
// error_default_type; 494 sent as 400. When that starts with
// application/grpc the handler exits with the table {message = ...}:
// to a gRPC request (GRPCRequest) the message goes in grpc-message, with
// grpc-status mapped from the status and no body; to another request it
// is JSON-encoded.
func (p *Proxy) nginxError(c *Context, status int) {
	h := &c.RequestCtx.Request.Header
	accept := b2s(h.PeekCanonical(hdrAccept))
	if accept == "" {
		accept = b2s(h.ContentType())
		if accept == "" {
			accept = p.cfg.ErrorDefaultType
		}
	}
	message, ok := nginxErrorMessages[status]
	if !ok {
		message = "The upstream server responded with " + strconv.Itoa(status)
	}
	if status == 494 {
		status = 400
	}
	if strings.HasPrefix(accept, MIMEGRPC) {
		resp := &c.RequestCtx.Response
		resetResponse(resp)
		resp.SetStatusCode(status)
		if c.GRPCRequest() {
			resp.Header.Set("grpc-status", strconv.Itoa(GRPCStatus(status)))
			resp.Header.Set("grpc-message", message)
			resp.Header.SetContentLength(0)
			return
		}
		// cjson's encoding of the table: the messages need no escaping
		resp.Header.SetContentType(mimeJSON)
		resp.SetBodyString(`{"message":"` + message + `"}`)
		return
	}
	p.writeError(c, status, responseType(accept), message)
}

func (p *Proxy) upstreamFailed(c *Context, status int) {
	if l := p.cfg.Logger; l != nil {
		m := &c.Match
		l.Error("upstream request failed", "status", status, "service", m.Service.ID,
			"upstream", m.UpstreamHostname+":"+strconv.Itoa(m.UpstreamPort), "err", c.UpstreamErr, "request_id", c.RequestID)
	}
	p.nginxError(c, status)
}

// finish runs the header filters (Kong's header_filter.before, the
// plugins' header_filter, header_filter.after setting Kong's downstream
// headers) and, for a body known whole, the body filter.
func (p *Proxy) finish(c *Context) {
	resp := &c.RequestCtx.Response
	h := &resp.Header
	if c.hashCookie.Key != "" {
		// hash_on cookie found none: the one it made up (Kong's
		// header_filter.before set_cookie)
		h.Add("Set-Cookie", c.hashCookie.String())
	}
	if c.debugHeaders {
		c.setDebugHeaders(h)
	}
	if p.hdr.upstreamStatus && (c.Proxied || c.MarkedProxied) {
		// Kong's header_filter.before: the upstream's status (a plugin's
		// answer in its stead: the response's), before the plugins'
		// header_filter
		st := c.upStatus
		if st == 0 {
			st = resp.StatusCode()
		}
		c.buf = strconv.AppendInt(c.buf[:0], int64(st), 10)
		h.SetCanonical(hdrUpstreamStatus, c.buf)
	}
	ph := c.ph
	tunnel := false
	if ph != nil {
		ph.HeaderFilter(c)
		if t := c.tunnel; t != nil {
			if resp.StatusCode() == fasthttp.StatusSwitchingProtocols {
				tunnel = true // no body_filter on a tunnel
			} else {
				// a header_filter answered otherwise: no tunnel
				t.up.Close()
				c.tunnel = nil
			}
		}
		if !tunnel && c.out.src != nil && len(resp.Body()) > 0 {
			// HeaderFilter gave a body of its own (kong.response.exit):
			// it replaces the upstream's, whose connection is closed.
			c.upResp.CloseBodyStream() //nolint:errcheck
			c.out.src = nil
		}
	}
	p.kongHeaders(c, h)
	// nginx's Date, unless the response has one (date.go): the upstream's
	// as it came, if a plugin left it.
	sc := &c.scan
	setOwnDate(h, sc.found()&hasDate == 0 || sc.value(h, nDate) == nil)
	if ph != nil && !tunnel && c.out.src == nil {
		// A body known whole: one BodyFilter call, before the write
		// (respond sends what it leaves in BodyChunk). A streamed one is
		// filtered chunk by chunk as it is written (bodyOut).
		c.BodyChunk, c.BodyEOF = resp.Body(), true
		ph.BodyFilter(c)
	}
}

// kongHeaders sets Kong's downstream headers (header_filter.after, once
// the plugins' header_filter ran: they replace what a plugin set under
// those names).
func (p *Proxy) kongHeaders(c *Context, h *fasthttp.ResponseHeader) {
	if c.MarkedProxied && !c.Proxied {
		// no upstream: Kong counts its wait from the end of access to the
		// response (nothing) and its proxy latency up to the response
		c.ProxyLatency = time.Since(c.Start)
	}
	if c.Proxied || c.MarkedProxied {
		if p.hdr.upstreamLatency {
			c.buf = strconv.AppendInt(c.buf[:0], c.UpstreamLatency.Milliseconds(), 10)
			h.SetCanonical(hdrUpstreamLatency, c.buf)
		}
		if p.hdr.proxyLatency {
			c.buf = strconv.AppendInt(c.buf[:0], c.ProxyLatency.Milliseconds(), 10)
			h.SetCanonical(hdrProxyLatency, c.buf)
		}
		if p.hdr.via {
			// The upstream's Via as it came ($upstream_http_via, its
			// lines joined), then Kong's, replacing every spelling.
			if sc := &c.scan; sc.resp {
				sc.dropOdd(h, hasVia)
			}
			via := p.via11 // proxy_http_version 1.1; 2 to a gRPC upstream
			if isGRPC(c.Upstream.Scheme) {
				via = p.via2
			}
			if c.upViaSet {
				c.buf = append(append(append(c.buf[:0], c.upVia...), ", "...), via...)
				h.SetCanonical(hdrVia, c.buf)
			} else {
				h.SetCanonical(hdrVia, s2b(via))
			}
		}
		// The upstream's Server is passed (proxy_pass_header Server);
		// without one Kong's (Kong's nginx writes none of its own).
		if p.hdr.server && len(h.Server()) == 0 {
			h.SetServer(p.server)
		}
	} else {
		c.ResponseLatency = time.Since(c.Start)
		if p.hdr.responseLatency {
			c.buf = strconv.AppendInt(c.buf[:0], c.ResponseLatency.Milliseconds(), 10)
			h.SetCanonical(hdrResponseLatency, c.buf)
		}
		if !(p.hdr.via && string(h.PeekCanonical(hdrVia)) == p.server) {
			if p.hdr.server {
				h.SetServer(p.server)
			} else {
				h.SetServer("")
			}
		}
	}
	if p.hdr.requestID {
		h.SetCanonical(hdrRequestID, c.rid[:])
	}
}

// ErrorHandler answers a request fasthttp could not read as nginx and
// Kong's error handler do: 400 (malformed; headers too large, nginx's
// 494), 413 (body over client_max_body_size). A TLS handshake that
// failed (a refused hello, a certificate that cannot be had, the
// certificate phase) read no request: nothing is answered or logged, the
// connection is closed (nginx's).
func (p *Proxy) ErrorHandler(rc *fasthttp.RequestCtx, err error) {
	if tc, ok := rc.Conn().(*tlsLogConn); ok && !tc.tc.ConnectionState().HandshakeComplete {
		rc.SetConnectionClose()
		return
	}
	c := p.ctxPool.Get().(*Context)
	c.p = p
	c.ph = p.Phases
	c.RequestCtx = rc
	c.lc = asLogConn(rc.Conn())
	c.tc, _ = rc.Conn().(*tlsLogConn)
	p.countRequest(c.lc)
	c.Start = time.Now()
	newRequestID(&c.rid)
	c.RequestID = string(c.rid[:])
	status := 400
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		status = 413
	case isSmallBuffer(err):
		status = 494
	}
	p.nginxError(c, status)
	rc.SetConnectionClose()
	p.finish(c)
	p.respond(c)
}

func isSmallBuffer(err error) bool {
	var sb *fasthttp.ErrSmallBuffer
	if errors.As(err, &sb) {
		return true
	}
	return errors.Is(err, fasthttp.ErrSmallReadBuffer)
}
