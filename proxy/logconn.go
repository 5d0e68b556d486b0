package proxy

import (
	"crypto/tls"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Log after the response is sent. Kong's log phase runs once nginx has
// sent the response, off the client's latency; fasthttp's handler returns
// before the response is written and offers no hook after the write. What
// we do, when plugins run:
//
//   - The response body always goes out through the Context's bodyOut
//     stream (an upstream body chunk by chunk, or a body known whole), so
//     fasthttp calls bodyOut.CloseWithError once it has written the whole
//     response into the connection's buffer, or failed to. The RequestCtx
//     is still intact then.
//   - If writing failed (the client went away, the upstream reset
//     mid-body), Log runs right there: the connection is closed next.
//   - Otherwise the request is parked on its connection (logConn.pending).
//     On a kept-alive connection fasthttp flushes the response and then
//     reports the connection idle (Server.ConnState, StateIdle) before it
//     resets the RequestCtx: Log runs from that hook, after the client has
//     the response. When the connection is to be closed after this
//     response (Connection: close from either side, HTTP/1.0, shutdown),
//     fasthttp resets the RequestCtx before the close; the Context then
//     gets a snapshot of the request and the response headers (a copy,
//     only on closing connections) and Log runs when the connection is
//     closed (logConn.Close).
//   - Pipelined requests: fasthttp holds a response back while the next
//     request is already buffered, so Log may run before that response is
//     flushed.
//
// Log is run exactly once per request whatever happens (a Phases
// implementation holding a Lua worker until Log relies on it): pending is
// taken with an atomic swap, since Shutdown may close an idle connection
// from another goroutine while its last request is being logged. A Context
// whose connection ends without the idle report (a flush that failed)
// gets an empty RequestCtx for Log rather than the server's, which fasthttp
// may already have handed to another connection.

// logConn is an accepted client connection of the proxy's listeners.
type logConn struct {
	net.Conn
	pending atomic.Pointer[Context]
	// state and counted: the connection counters (connstats.go)
	state   atomic.Int32
	counted atomic.Bool
	// rdl, wdl: the read and write deadlines set (unix ns, 0 none)
	rdl, wdl atomic.Int64
	// A WebSocket tunnel (tunnel.go): its server's set; the tunnel
	// fasthttp is to hand the connection to (taken by the hijack handler,
	// or by Close when fasthttp never calls it); inTunnel once hijacked
	// for one (the connection counts as open until the tunnel ends).
	tunnels  *tunnelSet
	tunnel   atomic.Pointer[tunnel]
	inTunnel atomic.Bool
	// wrote: the last operation was a write; yields: how many reads
	// yielded first (the connection's goroutine only)
	wrote  bool
	yields int
}

// Read reads the client's next bytes. Right after a response was written,
// with a single P, the goroutine first lets every goroutine already
// runnable run (see gomaxprocs).
func (lc *logConn) Read(p []byte) (int, error) {
	return lc.read(p, gomaxprocs.Load())
}

func (lc *logConn) read(p []byte, procs int32) (int, error) {
	if !lc.inTunnel.Load() && lc.wrote { // a tunnel reads and writes at once
		lc.wrote = false
		if procs == 1 {
			lc.yields++
			runtime.Gosched()
		}
	}
	return lc.Conn.Read(p)
}

// Write writes to the client.
func (lc *logConn) Write(p []byte) (int, error) {
	if !lc.inTunnel.Load() {
		lc.wrote = true
	}
	return lc.Conn.Write(p)
}

// fasthttp sets a client connection's read deadline before each request
// (idle_timeout, then client_header_timeout) and its write deadline before
// each response, each a timer update in the runtime's poller. A deadline
// that would move later by less than a 64th of its timeout (under a second
// for nginx's 60 s) is left where it is: on a busy connection it moves once
// per many requests, and a client still times out between 63/64 of the
// timeout and the timeout. Earlier deadlines and clearing one always apply.

func (lc *logConn) SetReadDeadline(t time.Time) error {
	if coarseDeadline(&lc.rdl, t) {
		return nil
	}
	return lc.Conn.SetReadDeadline(t)
}

func (lc *logConn) SetWriteDeadline(t time.Time) error {
	if coarseDeadline(&lc.wdl, t) {
		return nil
	}
	return lc.Conn.SetWriteDeadline(t)
}

func (lc *logConn) SetDeadline(t time.Time) error {
	if coarseDeadline(&lc.rdl, t) && coarseDeadline(&lc.wdl, t) {
		return nil
	}
	lc.rdl.Store(unixNano(t))
	lc.wdl.Store(unixNano(t))
	return lc.Conn.SetDeadline(t)
}

// coarseDeadline reports whether deadline t may be skipped, the one set
// (*cur) being in effect; else it records t in *cur.
func coarseDeadline(cur *atomic.Int64, t time.Time) bool {
	next := unixNano(t)
	if prev := cur.Load(); prev != 0 && next >= prev {
		if now := time.Now().UnixNano(); next-prev < (next-now)/64 {
			return true
		}
	}
	cur.Store(next)
	return false
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// logListener wraps every accepted connection in a logConn (a tlsLogConn
// for a TLS listener's).
type logListener struct {
	net.Listener
	tunnels *tunnelSet // the server's
}

func (l *logListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*tls.Conn); ok {
		hs, _ := tc.NetConn().(*hsConn)
		return &tlsLogConn{logConn: &logConn{Conn: c, tunnels: l.tunnels}, tc: tc, hs: hs}, nil
	}
	return &logConn{Conn: c, tunnels: l.tunnels}, nil
}

// tlsLogConn is a logConn over TLS; it has the methods fasthttp looks for
// (RequestCtx.IsTLS, TLSConnectionState).
type tlsLogConn struct {
	*logConn
	tc  *tls.Conn
	hs  *hsConn // under tc: what the certificate phase asked for
	sni *string // read once per connection, by its requests' goroutine
}

func (c *tlsLogConn) Handshake() error                     { return c.tc.Handshake() }
func (c *tlsLogConn) ConnectionState() tls.ConnectionState { return c.tc.ConnectionState() }

// serverName is the SNI the client sent ("" none), lower-cased as nginx's
// $ssl_server_name is not (Kong's router lower-cases it).
func (c *tlsLogConn) serverName() string {
	if c.sni == nil {
		s := strings.ToLower(c.tc.ConnectionState().ServerName)
		c.sni = &s
	}
	return *c.sni
}

// asLogConn is the logConn of a proxy connection (nil for another).
func asLogConn(nc net.Conn) *logConn {
	switch c := nc.(type) {
	case *logConn:
		return c
	case *tlsLogConn:
		return c.logConn
	}
	return nil
}

// Close closes the connection and runs the Log of a request still parked
// on it (or ends the tunnel it was to be hijacked for).
func (lc *logConn) Close() error {
	err := lc.Conn.Close()
	if t := lc.tunnel.Swap(nil); t != nil {
		t.abort()
	}
	if c := lc.pending.Swap(nil); c != nil {
		if c.RequestCtx != c.snap {
			c.snapshot(false)
		}
		c.p.log(c)
	}
	return err
}

// connState is the server's ConnState hook: a connection reported idle
// has flushed its last response.
func (p *Proxy) connState(nc net.Conn, st fasthttp.ConnState) {
	p.countConn(nc, st)
	if st != fasthttp.StateIdle {
		return
	}
	if lc := asLogConn(nc); lc != nil {
		if c := lc.pending.Swap(nil); c != nil {
			c.p.log(c)
		}
	}
}

// respond hands the response over to fasthttp, with Log to run after it
// is written (see above). Without plugins there is no Log and the Context
// is released at once. A request that did not come through the proxy's
// own listener (a caller's fasthttp.Server, a test calling ServeHTTP) has
// its response read whole and Log run before the write, as there is no
// connection to hang it on.
func (p *Proxy) respond(c *Context) {
	if c.tunnel != nil {
		p.hijack(c) // Log when the tunnel closes
		return
	}
	if c.ph == nil {
		c.release()
		return
	}
	rc := c.RequestCtx
	resp := &rc.Response
	if c.lc == nil && c.h2 == nil {
		// Not served by our listeners: no stream was read (ServeHTTP set
		// BufferResponse), the filtered body goes in the response and Log
		// runs now, before the write.
		if b := resp.Body(); len(c.BodyChunk) != len(b) || (len(b) > 0 && &c.BodyChunk[0] != &b[0]) {
			resp.SetBodyRaw(c.BodyChunk)
		}
		p.log(c)
		return
	}
	// Our listeners: fasthttp's server writes the response from bodyOut,
	// or serveH2 for an HTTP/2 stream.
	if rc.Request.IsBodyStream() && rc.Request.Header.ContentLength() < 0 {
		// A chunked body left unread: fasthttp would try to drain it after
		// the response and could then close the connection after all,
		// too late for the snapshot; close it now (nginx drains it).
		rc.SetConnectionClose()
	}
	o := &c.out
	o.c = c
	if o.src == nil {
		// A body known whole, already filtered (BodyChunk): copied out of
		// the response, which SetBodyStream empties, unless a plugin
		// gave its own.
		body := c.BodyChunk
		if b := resp.Body(); len(body) > 0 && len(b) == len(body) && &b[0] == &body[0] {
			c.outBody = append(c.outBody[:0], body...)
			body = c.outBody
		}
		o.data = body
		size := len(body)
		if rc.Request.Header.IsHead() {
			size = resp.Header.ContentLength()
			o.data = nil
		}
		resp.SetBodyStream(o, size)
		return
	}
	resp.SetBodyStream(o, streamSize(&resp.Header))
}

// written is told by bodyOut that fasthttp wrote the response (err nil)
// or failed to.
func (p *Proxy) written(c *Context, err error) {
	lc := c.lc
	if err != nil {
		p.log(c)
		return
	}
	if c.h2 != nil {
		// an HTTP/2 stream: Log once serveH2 has ended it
		c.h2.pending = c
		return
	}
	if c.RequestCtx.Response.Header.ConnectionClose() {
		c.snapshot(true)
	}
	lc.pending.Store(c)
}

// log runs Log and releases the Context.
func (p *Proxy) log(c *Context) {
	c.ph.Log(c)
	c.release()
}

// snapshot points RequestCtx at the Context's own RequestCtx, holding a
// copy of the request and of the response headers when full (else empty),
// for a Log that runs after fasthttp has reset the server's.
func (c *Context) snapshot(full bool) {
	s := c.snap
	if s == nil {
		s = new(fasthttp.RequestCtx)
		c.snap = s
	}
	var conn net.Conn = zeroConn{}
	if c.tc != nil {
		conn = c.tc // IsTLS and TLSConnectionState still answer
	} else if c.lc != nil {
		conn = c.lc
	}
	s.Init2(conn, nil, false)
	if full {
		c.RequestCtx.Request.CopyTo(&s.Request)
		c.RequestCtx.Response.Header.CopyTo(&s.Response.Header)
	}
	c.RequestCtx = s
}

// zeroConn stands for a connection that is gone.
type zeroConn struct{ net.Conn }

func (zeroConn) RemoteAddr() net.Addr { return &net.TCPAddr{} }
func (zeroConn) LocalAddr() net.Addr  { return &net.TCPAddr{} }

// A client connection's read that follows a write yields first when the
// process has one P (GOMAXPROCS=1: one proxy process per core, as nginx
// runs one worker per core). The client's next request cannot have come
// in the microsecond after its response left, so reading at once fails
// (EAGAIN), parks the goroutine and reads again once the poller says so:
// two system calls. Yielding first runs the goroutines already runnable,
// and the request has often come when the read runs: one call. With more
// Ps a yield hands the goroutine to the global queue, where another P
// takes it with its caches cold: measured slower there. (The upstream's
// side waits before reading instead: heldwrite.go.)

// gomaxprocs is runtime.GOMAXPROCS(0) (which takes the scheduler's lock),
// read at start and each second while a Server serves (the runtime may
// change it, following the container's CPU limit).
var gomaxprocs atomic.Int32

func init() { gomaxprocs.Store(int32(runtime.GOMAXPROCS(0))) }

// watchProcs refreshes gomaxprocs each second until stop is closed.
func watchProcs(stop <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		gomaxprocs.Store(int32(runtime.GOMAXPROCS(0)))
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}
