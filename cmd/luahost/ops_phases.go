package main

// Feeding the operations hooks from the proxy: a proxy.Phases decorator
// whose Log reports each request to /metrics (Kong's prometheus plugin's
// series) and to proxy_access_log (kong_log_format); and an slog handler
// counting the Lua calls the host stopped at their deadline.

import (
	"encoding/base64"
	"net"
	"net/netip"
	"strings"
	"time"
	"unsafe"

	"github.com/valyala/fasthttp"

	"github.com/luahost/luahost/logging"
	"github.com/luahost/luahost/metrics"
	"github.com/luahost/luahost/proxy"
)

// opsPhases runs the inner phases (the host's runloop), then reports the
// request once it is logged.
type opsPhases struct {
	proxy.Phases
	rec    *metrics.Recorder
	access *logging.AccessLog
}

// withOps decorates inner with what is on: with neither metrics nor the
// access log it returns inner itself, at no cost to a request.
func withOps(inner proxy.Phases, rec *metrics.Recorder, access *logging.AccessLog) proxy.Phases {
	if rec == nil && access == nil {
		return inner
	}
	return &opsPhases{Phases: inner, rec: rec, access: access}
}

// Log runs the plugins' log phase, then counts the request and writes its
// access-log line. Nothing here keeps c or its buffers past the call.
func (o *opsPhases) Log(c *proxy.Context) {
	o.Phases.Log(c)
	now := time.Now()
	rc := c.RequestCtx
	status := rc.Response.StatusCode()
	if o.rec != nil {
		if c.Matched && c.Match.Route != nil {
			o.rec.ObserveRequest(requestMetrics(c, status, now.Sub(c.Start)))
		} else {
			// Kong's prometheus plugin leaves out requests no Route
			// matched; /status's total_requests counts them.
			o.rec.CountRequest()
		}
	}
	if o.access != nil {
		o.logAccess(c, rc, status, now)
	}
}

// requestMetrics is what Kong's prometheus exporter reads from
// kong.log.serialize: the service's name (else its host), the route's
// name (else its id), latencies.request/proxy/kong, and the response's
// source ("service" when the upstream answered).
func requestMetrics(c *proxy.Context, status int, total time.Duration) metrics.Request {
	m := &c.Match
	// workspace_name: luahost serves Kong's default workspace only
	q := metrics.Request{Status: status, Total: total, Upstream: -1, Source: "kong", Workspace: "default"}
	q.Route = m.Route.Name
	if q.Route == "" {
		q.Route = m.Route.ID
	}
	if s := m.Service; s != nil {
		q.Service = s.Name
		if q.Service == "" {
			q.Service = s.Host
		}
	}
	if c.Proxied {
		q.Upstream, q.Kong = c.UpstreamLatency, c.ProxyLatency
		if c.UpstreamErr == nil {
			q.Source = "service"
		}
	} else {
		q.Kong = c.ResponseLatency
	}
	return q
}

// logAccess writes the request's kong_log_format line.
func (o *opsPhases) logAccess(c *proxy.Context, rc *fasthttp.RequestCtx, status int, now time.Time) {
	h := &rc.Request.Header
	var ipBuf [64]byte
	ip := c.ClientIP()
	var addr []byte
	if ip.IsValid() {
		addr = ip.AppendTo(ipBuf[:0])
	}
	var userBuf [96]byte
	e := logging.Entry{
		RemoteAddr: b2s(addr),
		RemoteUser: b2s(basicUser(userBuf[:0], h.Peek("Authorization"))),
		Time:       now,
		Method:     b2s(h.Method()),
		URI:        b2s(c.OriginalURI),
		Proto:      b2s(h.Protocol()),
		Status:     status,
		Referer:    b2s(h.Referer()),
		UserAgent:  b2s(h.UserAgent()),
		RequestID:  c.RequestID,
	}
	// $body_bytes_sent: the response's length as sent (a body in memory,
	// else the Content-Length of a streamed one); a chunked response, whose
	// length is not known here, is logged as 0.
	if resp := &rc.Response; !h.IsHead() {
		n := 0
		if !resp.IsBodyStream() {
			n = len(resp.Body())
		}
		if n == 0 {
			n = max(resp.Header.ContentLength(), 0)
		}
		e.BodyBytes = int64(n)
	}
	o.access.Log(&e)
}

// basicUser appends nginx's $remote_user, the user of a Basic
// Authorization header, to dst (dst unchanged when there is none).
func basicUser(dst, auth []byte) []byte {
	const prefix = "basic "
	if len(auth) <= len(prefix) || !strings.EqualFold(b2s(auth[:len(prefix)]), prefix) {
		return dst
	}
	enc := auth[len(prefix):]
	if base64.StdEncoding.DecodedLen(len(enc)) > cap(dst)-len(dst) {
		return dst // longer than nginx would bother with here
	}
	out := dst[len(dst) : len(dst)+base64.StdEncoding.DecodedLen(len(enc))]
	n, err := base64.StdEncoding.Decode(out, enc)
	if err != nil {
		return dst
	}
	user := out[:n]
	if i := indexColon(user); i >= 0 {
		user = user[:i]
	} else {
		return dst
	}
	return dst[:len(dst)+len(user)]
}

func indexColon(b []byte) int {
	for i, c := range b {
		if c == ':' {
			return i
		}
	}
	return -1
}

// b2s views b as a string without copying, for the duration of Log.
func b2s(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// adminAccessLog is the Admin API's admin.Options.Log writing
// admin_access_log (nginx's combined format); nil when the log is off.
func adminAccessLog(a *logging.AccessLog) func(*fasthttp.RequestCtx) {
	if a == nil {
		return nil
	}
	return func(rc *fasthttp.RequestCtx) {
		h := &rc.Request.Header
		var ipBuf [64]byte
		var addr []byte
		if ta, ok := rc.RemoteAddr().(*net.TCPAddr); ok {
			if ip, ok := netip.AddrFromSlice(ta.IP); ok {
				addr = ip.Unmap().AppendTo(ipBuf[:0])
			}
		}
		var userBuf [96]byte
		e := logging.Entry{
			RemoteAddr: b2s(addr),
			RemoteUser: b2s(basicUser(userBuf[:0], h.Peek("Authorization"))),
			Time:       time.Now(),
			Method:     b2s(h.Method()),
			URI:        b2s(h.RequestURI()),
			Proto:      b2s(h.Protocol()),
			Status:     rc.Response.StatusCode(),
			Referer:    b2s(h.Referer()),
			UserAgent:  b2s(h.UserAgent()),
		}
		if !h.IsHead() {
			e.BodyBytes = int64(len(rc.Response.Body()))
		}
		a.Log(&e)
	}
}
